"""``mloop db``: the metadata database's migrations."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import console, emit_json

app = typer.Typer(help="The metadata database: migration status and upgrade.", no_args_is_help=True)


@app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the database URL, its revisions and the heads this mloop has."""
    from mloop.core.config import get_settings
    from mloop.store.db import MetadataStore
    from mloop.store.migrate import current_revisions, head_revisions, is_current

    store = MetadataStore(get_settings().db_url, migrate=False)
    with store.read() as conn:
        rows = current_revisions(conn)
    current, heads = sorted(rows), sorted(head_revisions())
    result = {
        "url": store.display_url,
        "current": current,
        "heads": heads,
        "up_to_date": is_current(rows),
    }
    if as_json:
        emit_json(result)
        return
    console.print(f"database  {result['url']}")
    console.print(f"current   {', '.join(current) or '(empty)'}")
    console.print(f"heads     {', '.join(heads)}")
    console.print(
        "[green]up to date[/green]"
        if result["up_to_date"]
        else "[yellow]upgrade pending: run `mloop db upgrade`[/yellow]"
    )


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations (they are also applied whenever a store opens)."""
    from mloop.core.config import get_settings
    from mloop.store.db import MetadataStore
    from mloop.store.migrate import upgrade as run_upgrade

    store = MetadataStore(get_settings().db_url, migrate=False)
    run_upgrade(store)
    console.print(f"{store.display_url} is at the latest revision")
