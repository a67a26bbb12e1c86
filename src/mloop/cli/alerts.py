"""``mloop alerts``: alerts fired by monitoring rules, and their history."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import format_ms, table

app = typer.Typer(help="Alerts fired by monitoring rules, and their history.", no_args_is_help=True)


@app.command("list")
def alerts_list(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model."),
    status_: str | None = typer.Option(None, "--status", help="firing or resolved."),
    limit: int = typer.Option(100, "--limit", help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Alerts, newest first (one row per firing episode; repeats are counted, not re-sent)."""
    from mloop.monitoring import list_alerts

    rows = [a.__dict__ for a in list_alerts(model, status_, limit)]
    if not as_json:
        for row in rows:
            row["fired_at"], row["resolved_at"] = (
                format_ms(row["fired_at"]),
                format_ms(row["resolved_at"]),
            )
    table(
        rows,
        [
            "id",
            "model_name",
            "rule",
            "severity",
            "status",
            "value",
            "threshold",
            "occurrences",
            "fired_at",
            "resolved_at",
        ],
        "Alerts",
        as_json,
    )


@app.command("history")
def alerts_history(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model."),
    alert: str | None = typer.Option(None, "--alert", help="Only this alert id."),
    limit: int = typer.Option(200, "--limit", help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Alert events (fired, repeated, resolved) with the outcome of each notification."""
    from mloop.monitoring import alert_history

    rows = alert_history(model, alert, limit)
    if not as_json:
        for row in rows:
            row["at"] = format_ms(row["at"])
            row["notified"] = ", ".join(f"{k}: {v}" for k, v in (row["notified"] or {}).items())
    table(rows, ["at", "model", "rule", "event", "value", "notified"], "Alert history", as_json)
