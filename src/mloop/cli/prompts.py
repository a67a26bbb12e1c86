"""``mloop prompts``: the prompt registry (list, show, register, alias)."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import json
from pathlib import Path

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(help="The prompt registry: versions and aliases.", no_args_is_help=True)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List prompts with their latest version and aliases."""
    from mloop.genai.prompts import list_prompts

    rows = [
        {
            "name": p.name,
            "latest_version": p.latest_version,
            "aliases": ", ".join(f"{a}={v}" for a, v in sorted(p.aliases.items())),
            "gated": ", ".join(p.gated_aliases),
            "updated": format_ms(p.updated_at),
        }
        for p in list_prompts()
    ]
    table(rows, ["name", "latest_version", "aliases", "gated", "updated"], "Prompts", as_json)


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name/version, name@alias or prompts:/..."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one prompt version (the latest when no version or alias is given)."""
    from mloop.genai.prompts import list_prompt_versions, load_prompt

    prompt = load_prompt(ref)
    if as_json:
        emit_json(prompt.__dict__)
        return
    console.print(f"[bold]{prompt.uri}[/bold]  aliases: {', '.join(prompt.aliases) or '-'}")
    console.print(f"variables: {', '.join(prompt.variables) or '-'}  params: {prompt.params}")
    console.print(f"created {format_ms(prompt.created_at)} by {prompt.created_by}")
    if isinstance(prompt.template, str):
        console.print(prompt.template, markup=False, highlight=False)
    else:
        for message in prompt.template:
            console.print(f"[{message['role']}] {message['content']}", markup=False)
    versions = [v.version for v in list_prompt_versions(prompt.name)]
    console.print(f"[dim]versions: {', '.join(map(str, versions))}[/dim]")


@app.command("register")
def register(
    name: str,
    template_file: Path = typer.Argument(
        ..., help="A text file, or a .json file holding a list of chat messages."
    ),
    param: list[str] = typer.Option([], "--param", help="Model parameter key=value (JSON value)."),
    tag: list[str] = typer.Option([], "--tag", help="Tag key=value."),
    description: str = typer.Option("", "--description"),
) -> None:
    """Register a new version of a prompt from a file."""
    from mloop.core.errors import InvalidInput
    from mloop.genai.prompts import register_prompt

    if not template_file.is_file():
        raise InvalidInput(f"template file {str(template_file)!r} does not exist.")
    text = template_file.read_text()
    template: object = text
    if template_file.suffix == ".json":
        try:
            template = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"{template_file} is not JSON: {exc}") from None
    params = {k: _json_value(v) for k, v in (_pair(p, "--param") for p in param)}
    tags = dict(_pair(t, "--tag") for t in tag)
    prompt = register_prompt(name, template, params=params, tags=tags, description=description)  # type: ignore[arg-type]
    console.print(f"registered {prompt.uri}")


@app.command("alias")
def alias(
    name: str,
    alias_name: str = typer.Argument(..., metavar="ALIAS"),
    version: str = typer.Argument(None, help="Version to point at; omit with --delete."),
    delete: bool = typer.Option(False, "--delete", help="Remove the alias."),
    reason: str = typer.Option("", "--reason", help="Kept in the audit log."),
) -> None:
    """Point an alias at a version (or delete it with --delete)."""
    from mloop.core.errors import InvalidInput
    from mloop.genai.prompts import delete_prompt_alias, set_prompt_alias

    if delete:
        delete_prompt_alias(name, alias_name, reason=reason)
        console.print(f"deleted alias {alias_name} of {name}")
        return
    if version is None:
        raise InvalidInput("give the VERSION to point the alias at, or --delete.")
    prompt = set_prompt_alias(name, alias_name, version, reason=reason)
    console.print(f"{name}@{alias_name} -> version {prompt.version}")


def _pair(text: str, option: str) -> tuple[str, str]:
    from mloop.core.errors import InvalidInput

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise InvalidInput(f"{option} {text!r} is not key=value.")
    return key, value


def _json_value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text
