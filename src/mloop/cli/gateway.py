"""``mloop gateway``: the LLM gateway on its own (OpenAI-compatible API)."""

from __future__ import annotations

from pathlib import Path

import typer

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)


def gateway(
    config: Path | None = typer.Option(
        None,
        "--config",
        help="The routes file (YAML); without it, the [gateway] section of mloop.toml.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    ledger: bool = typer.Option(
        True, "--ledger/--no-ledger", help="Record every call in the metadata store."
    ),
) -> None:
    """Serve the LLM gateway: /v1/chat/completions, /v1/embeddings, /v1/models.

    Example: mloop gateway --config routes.yaml --port 8080
    """
    import uvicorn

    from mloop.core.config import get_settings
    from mloop.core.errors import ConfigError, InvalidInput
    from mloop.genai.gateway import create_gateway_app, load_config
    from mloop.genai.gateway.auth import config_authenticator
    from mloop.store import get_store

    if config is not None:
        parsed = load_config(config)
    else:
        section = get_settings().section("gateway")
        if not section:
            raise ConfigError(
                "No gateway configuration: pass --config routes.yaml, or add a [gateway] "
                "section with routes to mloop.toml (docs/genai-gateway.md)."
            )
        parsed = load_config(section)
    authenticate = config_authenticator(parsed)
    if authenticate is None and host not in _LOOPBACK:
        raise InvalidInput(
            f"--host {host} would expose a gateway without keys; add api_keys to "
            f"{config or 'the [gateway] section of mloop.toml'} "
            "(docs/genai-gateway.md), or listen on 127.0.0.1."
        )
    app = create_gateway_app(parsed, authenticate, store=get_store() if ledger else None)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
