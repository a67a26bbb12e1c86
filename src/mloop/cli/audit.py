"""``mloop audit``: who changed what, when, and why."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import format_ms, table

app = typer.Typer(
    help="The audit log of alias moves, promotions and policy decisions.",
    invoke_without_command=True,
)


@app.callback()
def audit(
    ctx: typer.Context,
    object_id: str = typer.Option(
        None, "--object", help="Only entries about this object (e.g. a model name)."
    ),
    action: str = typer.Option(
        None, "--action", help="Only this action (e.g. alias.set, promote)."
    ),
    limit: int = typer.Option(50, "--limit", "-n", help="Most entries to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List audit entries, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from mloop.store import audit as audit_log
    from mloop.store import get_store

    rows = [
        {**e.__dict__, "when": format_ms(e.at)}
        for e in audit_log.entries(get_store(), object_id=object_id, action=action, limit=limit)
    ]
    table(
        rows,
        ["when", "actor", "action", "object_kind", "object_id", "from_value", "to_value", "reason"],
        "Audit log",
        as_json,
    )
