"""``mloop experiments``: list the experiments."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import format_ms, table

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List experiments with their number of runs."""
    from sqlalchemy import func, select

    from mloop.store import get_store
    from mloop.store.schema.tracking import Run
    from mloop.tracking.client import TrackingClient

    client = TrackingClient()
    with get_store().read() as conn:
        counts = dict(
            conn.execute(select(Run.experiment_id, func.count()).group_by(Run.experiment_id)).all()
        )
    rows = [
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "runs": counts.get(int(e.experiment_id), 0),
            "created": format_ms(e.creation_time),
            "artifact_location": e.artifact_location,
        }
        for e in client.search_experiments()
    ]
    table(
        rows,
        ["experiment_id", "name", "runs", "created", "artifact_location"],
        "Experiments",
        as_json,
    )
