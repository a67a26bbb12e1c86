"""``mloop users``: accounts of ``mloop server``, created on the server's host."""

from __future__ import annotations

import typer

from mloop.cli.output import format_ms, table

app = typer.Typer(help="Users and service accounts of mloop server.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="User name."),
    admin: bool = typer.Option(False, "--admin", help="Admin of every workspace."),
    password: str = typer.Option(
        None, "--password", help="Password (asked for, hidden, when not given)."
    ),
    service: bool = typer.Option(
        False, "--service", help="A service account (tokens only, no password)."
    ),
    workspace: str = typer.Option("default", "--workspace", help="Workspace to join."),
    role: str = typer.Option(
        None, "--role", help="viewer, editor or admin in the workspace (default: editor)."
    ),
) -> None:
    """Create a user (or a service account) on this host's metadata store."""
    from mloop.server.auth import accounts
    from mloop.store import get_store

    if not service and password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    account = accounts.create(
        get_store(),
        name,
        password=None if service else password,
        admin=admin,
        kind="service" if service else "user",
        workspace=workspace,
        role=role,
    )
    typer.echo(f"created {account.kind} {account.name!r}{' (admin)' if admin else ''}")


@app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The users and service accounts."""
    from mloop.server.auth import accounts
    from mloop.store import get_store

    rows = [
        {**a.__dict__, "created": format_ms(a.created_at)}
        for a in accounts.list_accounts(get_store())
    ]
    table(rows, ["name", "kind", "is_admin", "created"], "Users", as_json)


@app.command("role")
def set_role(
    name: str = typer.Argument(..., help="User name."),
    workspace: str = typer.Argument(..., help="Workspace."),
    role: str = typer.Argument(..., help="viewer, editor, admin, or none to remove."),
) -> None:
    """Give a user a role in a workspace (``none`` removes it)."""
    from mloop.server.auth import accounts
    from mloop.store import get_store

    accounts.set_role(get_store(), workspace, name, None if role == "none" else role)
    typer.echo(f"{name} is {role} in {workspace}")
