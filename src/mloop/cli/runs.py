"""``mloop runs``: list, show and compare runs."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import math
from typing import Any, cast

import typer

from mloop.cli.output import console, emit_json, format_ms, format_value, table

app = typer.Typer(
    help="Runs: params, metrics, tags and artifacts of training runs.", no_args_is_help=True
)


@app.command("list")
def list_(
    experiment: list[str] = typer.Option(
        None, "--experiment", "-e", help="Experiment name (repeatable)."
    ),
    filter_string: str = typer.Option(
        "", "--filter", "-f", help="e.g. \"metrics.auc > 0.8 and params.model = 'rf'\""
    ),
    order_by: list[str] = typer.Option(
        None, "--order-by", "-o", help="e.g. 'metrics.auc DESC' (repeatable)."
    ),
    max_results: int = typer.Option(50, "--max", "-n", help="Most runs to show."),
    view: str = typer.Option(
        "ACTIVE_ONLY", "--view", help="ACTIVE_ONLY (default), DELETED_ONLY or ALL."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List runs, newest first, or as ``--filter`` and ``--order-by`` say."""
    from mloop.tracking import Run, search_runs

    found = cast(
        list[Run],
        search_runs(
            experiment_names=experiment or None,
            search_all_experiments=not experiment,
            filter_string=filter_string,
            order_by=order_by or None,
            max_results=max_results,
            run_view_type=view,
            output_format="list",
        ),
    )
    metric_keys = sorted({k for run in found for k in run.data.metrics})[:6]
    rows = []
    for run in found:
        row: dict[str, Any] = {
            "run_id": run.info.run_id,
            "name": run.info.run_name,
            "experiment": run.info.experiment_id,
            "status": run.info.status,
            "started": format_ms(run.info.start_time),
        }
        if as_json:
            row.update(run.to_dict())
        for key in metric_keys:
            row[key] = run.data.metrics.get(key)
        rows.append(row)
    if as_json:
        emit_json([{"info": r["info"], "data": r["data"]} for r in rows])
        return
    table(rows, ["run_id", "name", "experiment", "status", "started", *metric_keys], "Runs")


@app.command("delete")
def delete(run_id: str) -> None:
    """Delete a run: its data stays, searches hide it (``mloop runs restore`` undoes it)."""
    from mloop.tracking import Client

    Client().delete_run(run_id)
    console.print(f"deleted run {run_id} (mloop runs restore {run_id} brings it back)")


@app.command("restore")
def restore(run_id: str) -> None:
    """Restore a deleted run."""
    from mloop.tracking import Client

    Client().restore_run(run_id)
    console.print(f"restored run {run_id}")


@app.command("show")
def show(run_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show one run: info, params, metrics, tags, inputs and artifacts."""
    from mloop.registry import Client

    client = Client()
    run = client.get_run(run_id)
    artifacts = client.list_artifacts(run_id)
    if as_json:
        emit_json({**run.to_dict(), "artifacts": artifacts})
        return
    info = run.info
    console.print(f"[bold]{info.run_name}[/bold]  {info.run_id}")
    console.print(
        f"status {info.status}   experiment {info.experiment_id}   started {format_ms(info.start_time)}"
        f"   ended {format_ms(info.end_time)}   user {info.user_id}"
    )
    if info.parent_run_id:
        console.print(f"parent run {info.parent_run_id}")
    table(
        [{"param": k, "value": v} for k, v in sorted(run.data.params.items())],
        ["param", "value"],
        "Params",
    )
    table(
        [{"metric": k, "value": v} for k, v in sorted(run.data.metrics.items())],
        ["metric", "value"],
        "Metrics",
    )
    table(
        [{"tag": k, "value": v} for k, v in sorted(run.data.tags.items())], ["tag", "value"], "Tags"
    )
    if run.inputs:
        table([i.__dict__ for i in run.inputs], ["kind", "id", "context"], "Inputs")
    table([{"artifact": a} for a in artifacts], ["artifact"], "Artifacts")


@app.command("compare")
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare runs side by side: params and metrics that differ are highlighted."""
    from mloop.tracking import get_run

    found = [get_run(r) for r in run_ids]
    rows = []
    for kind in ("params", "metrics"):
        keys = sorted({k for run in found for k in getattr(run.data, kind)})
        for key in keys:
            values = [getattr(run.data, kind).get(key) for run in found]
            rows.append({"kind": kind, "key": key, "values": values, "differs": _differs(values)})
    if as_json:
        emit_json({"runs": run_ids, "rows": rows})
        return
    from rich.table import Table

    view = Table(title="Compare runs", header_style="bold")
    view.add_column("key")
    for run in found:
        view.add_column(f"{run.info.run_name}\n{run.info.run_id[:8]}")
    for row in rows:
        style = "yellow" if row["differs"] else None
        view.add_row(
            f"{row['kind']}.{row['key']}", *(format_value(v) for v in row["values"]), style=style
        )
    console.print(view)


def _differs(values: list[Any]) -> bool:
    def norm(v: Any) -> Any:
        return "nan" if isinstance(v, float) and math.isnan(v) else v

    return len({norm(v) for v in values}) > 1
