"""``mloop monitor``: drift, windows of the prediction log, status and reports."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(
    help="Monitoring: drift, windows of the prediction log, reports.", no_args_is_help=True
)


def _read(source: str) -> Any:
    """A DataFrame from a Parquet/CSV path or a dataset reference (weather@2)."""
    path = Path(source)
    if path.exists():
        import pandas as pd

        return pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    from mloop.data import load

    return load(source)


@app.command("drift")
def drift_(
    reference: str = typer.Argument(..., help="Reference data: Parquet/CSV path or dataset@N."),
    current: str = typer.Argument(..., help="Current data: Parquet/CSV path or dataset@N."),
    columns: str | None = typer.Option(None, "--columns", "-c", help="Comma-separated columns."),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare two data sets column by column (drift statistics, findings)."""
    from mloop.monitoring import drift

    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    report = drift(
        _read(reference), _read(current), columns=names, title=f"Drift: {current} vs {reference}"
    )
    if html is not None:
        report.to_html(html)
    if as_json:
        emit_json(report.to_dict())
        return
    rows = [
        {
            "column": f.column,
            "kind": f.kind,
            "statistic": f.statistic,
            "score": f.score,
            "threshold": f.threshold,
            "drifted": f.drifted if f.drifted is not None else f.status,
            "findings": "; ".join(f.findings),
        }
        for f in report.features.values()
    ]
    table(
        rows, ["column", "kind", "statistic", "score", "threshold", "drifted", "findings"], "Drift"
    )
    d = report.dataset
    console.print(
        f"{d.drifted_columns}/{d.columns} columns drifted (share {d.share:.2f}); dataset drift: "
        f"{'[red]yes[/red]' if d.drifted else '[green]no[/green]'}\n{d.rule}"
        + (f"; report written to {html}" if html else "")
    )


@app.command("run")
def run_(
    model: str = typer.Argument(..., help="Registered model name."),
    start: str = typer.Option(..., "--start", help="Start of the period (ISO time, UTC)."),
    end: str = typer.Option(..., "--end", help="End of the period (ISO time, UTC)."),
    every: str = typer.Option("1D", "--every", help="Window length, e.g. 1h, 1D, 7D."),
    rows: int | None = typer.Option(None, "--rows", help="Windows of this many rows instead."),
    suite: str | None = typer.Option(None, "--suite", help="Stored data suite run on each window."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Aggregate the prediction log into windows: drift, quality, metrics (stored)."""
    from mloop.monitoring import Monitor

    windows = Monitor(model, suite=suite).run(start, end, every=None if rows else every, rows=rows)
    _windows_table([w.summary() for w in windows], as_json, f"Windows of {model}")


@app.command("refresh")
def refresh(
    model: str = typer.Argument(..., help="Registered model name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Re-score stored windows whose labels arrived since (joined by request id)."""
    from mloop.monitoring import Monitor

    windows = Monitor(model).refresh_labels()
    _windows_table([w.summary() for w in windows], as_json, f"Re-scored windows of {model}")


@app.command("windows")
def windows_(
    model: str = typer.Argument(..., help="Registered model name."),
    start: str | None = typer.Option(None, "--start", help="Windows starting at or after."),
    end: str | None = typer.Option(None, "--end", help="Windows starting before."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored windows, oldest first."""
    from mloop.monitoring import list_windows

    found = list_windows(model, start, end)
    _windows_table([w.summary() for w in found], as_json, f"Windows of {model}")


def _windows_table(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        row["start"], row["end"] = format_ms(row["start"]), format_ms(row["end"])
    metrics = [m for m in ("roc_auc", "accuracy", "mae") if any(m in r for r in rows)]
    columns = [
        "id",
        "version",
        "start",
        "end",
        "rows",
        "drift_share",
        "drifted",
        "labelled",
        *metrics,
        "quality_failed",
    ]
    table(rows, columns, title)


@app.command("window")
def window_(
    window_id: str = typer.Argument(..., help="Window id (see `mloop monitor windows`)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one window: drift per column, metrics, root cause."""
    from mloop.monitoring import get_window

    window = get_window(window_id)
    if as_json:
        emit_json(window.to_dict())
        return
    console.print(repr(window))
    reports = [window.drift, *([window.output_drift] if window.output_drift else [])]
    rows = [
        {
            "column": f.column,
            "statistic": f.statistic,
            "score": f.score,
            "threshold": f.threshold,
            "drifted": f.drifted,
            "importance": f.importance,
        }
        for r in reports
        for f in r.features.values()
    ]
    table(rows, ["column", "statistic", "score", "threshold", "drifted", "importance"], "Drift")
    cause = window.root_cause or {}
    if cause.get("slices"):
        table(
            cause["slices"],
            ["column", "value", "rows", "reference", "current", "drop"],
            "Worst slices",
        )


@app.command("status")
def status(
    model: str = typer.Argument(..., help="Registered model name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The latest window, feedback, firing alerts and the last retraining decisions of a model."""
    from mloop.loop import decisions
    from mloop.monitoring import list_alerts, list_windows
    from mloop.store.predictions import feedback_status

    latest = list_windows(model, limit=1)
    firing = list_alerts(model, status="firing")
    recent = decisions(model, limit=5)
    feedback = feedback_status(model).as_dict()
    if as_json:
        emit_json(
            {
                "latest_window": latest[0].to_dict() if latest else None,
                "feedback": feedback,
                "firing": [a.__dict__ for a in firing],
                "decisions": [d.to_dict() for d in recent],
            }
        )
        return
    if latest:
        console.print(repr(latest[0]))
    else:
        console.print(
            f"model {model!r} has no windows yet; `mloop monitor run {model} ...` makes them."
        )
    console.print(
        f"feedback labels: {feedback['labels']} ({feedback['matched']} matched to a logged "
        f"prediction, {feedback['pending']} pending, {feedback['unmatched']} unmatched)"
    )
    table(
        [a.__dict__ for a in firing],
        ["rule", "severity", "value", "threshold", "occurrences", "message"],
        "Firing alerts",
    )
    table(
        [d.to_dict() for d in recent],
        ["id", "trigger", "status", "champion_version", "candidate_version", "reason"],
        "Recent decisions",
    )


@app.command("report")
def report(
    model: str = typer.Argument(..., help="Registered model name."),
    out: Path = typer.Option(Path("monitoring.html"), "--out", "-o", help="HTML file to write."),
    start: str | None = typer.Option(None, "--start", help="Windows starting at or after."),
    end: str | None = typer.Option(None, "--end", help="Windows starting before."),
) -> None:
    """Write the HTML report: drift over time, histograms, accuracy, KPIs, alerts, retraining."""
    from mloop.monitoring import Monitor

    Monitor(model).report(out, start, end)
    console.print(f"report of {model} written to {out}")
