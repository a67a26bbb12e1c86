"""``mloop models``: registered models, versions, aliases and promotion."""

from __future__ import annotations

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(help="The model registry: models, versions, aliases.", no_args_is_help=True)
alias_app = typer.Typer(
    help="Set or delete an alias (champion, challenger, ...).", no_args_is_help=True
)
app.add_typer(alias_app, name="alias")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List registered models with their latest version and aliases."""
    from mloop.registry import list_models

    rows = [
        {
            "name": m.name,
            "latest_version": m.latest_version,
            "aliases": ", ".join(f"{a}={v}" for a, v in sorted(m.aliases.items())),
            "updated": format_ms(m.last_updated_timestamp),
        }
        for m in list_models()
    ]
    table(rows, ["name", "latest_version", "aliases", "updated"], "Registered models", as_json)


@app.command("versions")
def versions_(name: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the versions of a model, newest first."""
    from mloop.registry import list_versions

    rows = [
        {
            "version": v.version,
            "aliases": ", ".join(v.aliases),
            "flavor": v.flavor,
            "status": v.status,
            "run_id": v.run_id,
            "created": format_ms(v.creation_timestamp),
            "created_by": v.user_id,
        }
        for v in list_versions(name)
    ]
    table(
        rows,
        ["version", "aliases", "flavor", "status", "run_id", "created", "created_by"],
        f"Versions of {name}",
        as_json,
    )


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name/version or name@alias"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a model version (the latest when only a name is given) and its signature."""
    from mloop.registry import get_version

    name, version = _split(ref)
    found = get_version(name, version)
    if as_json:
        emit_json(found.__dict__)
        return
    console.print(
        f"[bold]{found.name}[/bold] version {found.version}  aliases: {', '.join(found.aliases) or '-'}"
    )
    console.print(
        f"flavor {found.flavor}  status {found.status}  run {found.run_id}  source {found.source}"
    )
    if found.description:
        console.print(found.description)
    if found.signature:
        table(found.signature.get("inputs", []), ["name", "type", "optional"], "Signature inputs")
        table(found.signature.get("outputs", []), ["name", "type"], "Signature outputs")


@alias_app.command("set")
def alias_set(
    name: str,
    alias: str,
    version: int,
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Point ALIAS of model NAME at VERSION."""
    from mloop.registry import set_alias

    found = set_alias(name, alias, version, reason=reason)
    console.print(f"{name}@{alias} -> version {found.version}")


@alias_app.command("delete")
def alias_delete(
    name: str,
    alias: str,
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Remove ALIAS from model NAME."""
    from mloop.registry import delete_alias

    delete_alias(name, alias, reason=reason)
    console.print(f"{name}@{alias} deleted")


def _split(ref: str) -> tuple[str, str]:
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return name, alias
    if "/" in ref:
        name, version = ref.split("/", 1)
        return name, version
    return ref, "latest"
