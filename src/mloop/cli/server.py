"""``mloop server``: the REST API over the configured stores, for a team (docs/server.md)."""

from __future__ import annotations

import ipaddress
import socket

import typer

from mloop.core.errors import ConfigError

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def register(app: typer.Typer) -> None:
    app.command("server")(server)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def check_exposure(host: str, auth_configured: bool, insecure: bool) -> None:
    """Refuse a non-loopback address without authentication, unless ``--insecure``."""
    if is_loopback(host) or auth_configured or insecure:
        return
    raise ConfigError(
        f"mloop server would listen on {host!r} with no authentication configured: anyone who "
        "reaches it could read and change everything. Create a user first (`mloop users create "
        "NAME --admin`), listen on 127.0.0.1, or pass --insecure to accept the risk."
    )


def server(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(5000, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", help="Worker processes."),
    insecure: bool = typer.Option(
        False,
        "--insecure",
        help="Serve without authentication even on a non-loopback address.",
    ),
) -> None:
    """Serve /api/v1 (tracking, registry, artifacts, audit, lineage) with auth and roles."""
    import os

    import uvicorn

    from mloop.server.auth import accounts
    from mloop.store import get_store

    if os.environ.pop("MLOOP_TRACKING_URI", None):  # the server works on the stores themselves
        typer.echo("ignoring MLOOP_TRACKING_URI: the server opens the configured stores itself")
    configured = accounts.any_account(get_store())
    check_exposure(host, configured, insecure)
    if insecure:
        os.environ["MLOOP_SERVER_INSECURE"] = "1"  # read by create_app in each worker
    typer.echo(
        f"mloop server on http://{host}:{port} "
        f"(auth {'off' if insecure or not configured else 'on'}, workers {workers})"
    )
    uvicorn.run(
        "mloop.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
