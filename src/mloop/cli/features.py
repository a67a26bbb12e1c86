"""``mloop features``: apply definitions, list them, materialize, show stats, serve online."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(
    help="Features: definitions, training sets, materialization, online serving.",
    no_args_is_help=True,
)


def _when(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    from datetime import UTC

    from mloop.core.errors import InvalidInput

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{what} = {value!r} is not a date; write e.g. 2013-06-01 or 2013-06-01T12:00Z."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _definitions(paths: list[Path]) -> list[Any]:
    """Every definition at module level of the Python files (lists of them too)."""
    import importlib.util
    import sys

    from mloop import features as fs
    from mloop.core.errors import NotFound

    kinds = (fs.Entity, fs.FeatureView, fs.OnDemandFeatureView, fs.FeatureService)
    found: list[Any] = []
    for path in paths:
        if not path.is_file():
            raise NotFound(f"definitions file {str(path)!r} does not exist.")
        name = f"mloop_features_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent.resolve()))
        spec.loader.exec_module(module)
        for value in vars(module).values():
            values = value if isinstance(value, (list, tuple)) else [value]
            found += [v for v in values if isinstance(v, kinds) and all(v is not f for f in found)]
    return found


@app.command("apply")
def apply(
    paths: list[Path] = typer.Argument(
        ..., help="Python files defining entities, views and services."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Validate the definitions of the files and store them (a changed one is a new version)."""
    from mloop import features as fs

    applied = fs.FeatureStore().apply(_definitions(paths))
    rows = [
        {"kind": a.kind, "name": a.name, "version": a.version, "changed": a.changed}
        for a in applied
    ]
    table(rows, ["kind", "name", "version", "changed"], title="applied", as_json=as_json)


@app.command("list")
def list_(
    kind: str = typer.Option(
        None, "--kind", help="entity, feature_view, on_demand_view or feature_service."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the definitions in force."""
    from mloop import features as fs

    rows = []
    for d in fs.FeatureStore().list_definitions(kind):
        features = d.definition.get("features") or d.definition.get("outputs") or []
        names = [f[0] if isinstance(f, list) else f for f in features]
        rows.append(
            {
                "kind": d.kind,
                "name": d.name,
                "version": d.version,
                "features": ", ".join(names),
                "created": format_ms(d.created_at),
                "by": d.created_by,
            }
        )
    table(
        rows,
        ["kind", "name", "version", "features", "created", "by"],
        title="features",
        as_json=as_json,
    )


@app.command("materialize")
def materialize(
    start: str = typer.Option(
        None, "--start", help="Start of the event-time range (ISO date); default: the beginning."
    ),
    end: str = typer.Option(
        None, "--end", help="End of the range, excluded (ISO date); default: now."
    ),
    view: list[str] = typer.Option(None, "--view", help="Only these views (repeatable)."),
    incremental: bool = typer.Option(
        False, "--incremental", help="Start each view where its last run ended."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Copy each entity's latest feature row of the range to the online store."""
    from datetime import UTC

    from mloop import features as fs

    store = fs.FeatureStore()
    views = list(view) if view else None
    if incremental:
        records = store.materialize_incremental(_when(end, "--end"), views)
    else:
        records = store.materialize(
            _when(start, "--start"), _when(end, "--end") or datetime.now(UTC), views
        )
    rows = [
        {
            "view": r.view,
            "version": r.version,
            "rows read": r.rows_read,
            "entities written": r.rows_written,
            "seconds": round(((r.finished_at or r.started_at) - r.started_at) / 1000, 2),
        }
        for r in records
    ]
    table(
        rows,
        ["view", "version", "rows read", "entities written", "seconds"],
        title="materialized",
        as_json=as_json,
    )


@app.command("stats")
def stats(
    view: str = typer.Argument(..., help="Feature view name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The profile of the view's latest materialization."""
    from mloop import features as fs
    from mloop.core.errors import NotFound

    runs = [r for r in fs.FeatureStore().materializations(view) if r.profile]
    if not runs:
        raise NotFound(
            f"feature view {view!r} has no materialization with a profile; run `mloop features materialize`."
        )
    latest = runs[0]
    if as_json:
        emit_json(
            {
                "view": view,
                "version": latest.version,
                "materialization": latest.id,
                "profile": latest.profile,
            }
        )
        return
    from mloop.data import Profile

    profile = Profile.from_dict(latest.profile or {})
    console.print(
        f"[bold]{view}[/bold] v{latest.version}: {profile.num_rows:,} entities at {format_ms(latest.finished_at)}"
    )
    summary = profile.summary()
    columns = list(dict.fromkeys(k for row in summary for k in row))
    table(summary, columns)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8300, "--port", help="Port to listen on."),
) -> None:
    """Serve POST /features/online over HTTP (FastAPI + uvicorn)."""
    import uvicorn

    # by name: entry points are siblings (mloop.cli does not import mloop.server)
    uvicorn.run(
        "mloop.server.features:create_app", factory=True, host=host, port=port, log_level="warning"
    )
