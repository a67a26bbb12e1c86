"""``mloop tokens``: API tokens of ``mloop server``'s users, created on the server's host."""

from __future__ import annotations

import typer

from mloop.cli.output import format_ms, table

app = typer.Typer(help="API tokens of mloop server.", no_args_is_help=True)


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", help="The user or service account."),
    scope: list[str] = typer.Option(
        ["read", "write"],
        "--scope",
        help="read, write, admin, feedback or gateway (repeat the option).",
    ),
    expires: str = typer.Option(None, "--expires", help="e.g. 12h, 90d; default: never."),
    description: str = typer.Option("", "--description", help="What the token is for."),
) -> None:
    """Create a token; it is printed once, alone on the last line."""
    from mloop.server.auth import tokens
    from mloop.store import get_store

    expires_ms = tokens.parse_duration(expires) if expires else None
    secret, info = tokens.create(get_store(), user, scope, expires_ms, description)
    typer.echo(f"token {info.id} for {user} (scopes {' '.join(sorted(info.scopes))}); shown once:")
    typer.echo(secret)


@app.command("list")
def list_tokens(
    user: str = typer.Option(None, "--user", help="Only this user's tokens."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Tokens (never their secrets)."""
    from mloop.server.auth import tokens
    from mloop.store import get_store

    rows = [
        {
            "id": t.id,
            "prefix": t.prefix,
            "user": t.user,
            "scopes": " ".join(sorted(t.scopes)),
            "created": format_ms(t.created_at),
            "expires": format_ms(t.expires_at) if t.expires_at else "never",
            "revoked": format_ms(t.revoked_at) if t.revoked_at else "",
        }
        for t in tokens.list_tokens(get_store(), user)
    ]
    table(
        rows, ["id", "prefix", "user", "scopes", "created", "expires", "revoked"], "Tokens", as_json
    )


@app.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="The token's id (`mloop tokens list`)."),
) -> None:
    """Revoke a token: the server refuses it from the next request on."""
    from mloop.server.auth import tokens
    from mloop.store import get_store

    tokens.revoke(get_store(), token_id)
    typer.echo(f"revoked token {token_id}")
