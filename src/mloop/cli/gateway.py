"""``mloop gateway``: the LLM gateway on its own (OpenAI-compatible API)."""

from __future__ import annotations

from pathlib import Path

import typer

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)


def gateway(
    config: Path = typer.Option(
        ..., "--config", help="The routes file (YAML); see docs/genai-gateway.md."
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

    from mloop.core.errors import InvalidInput
    from mloop.genai.gateway import create_gateway_app, load_config
    from mloop.genai.gateway.auth import config_authenticator
    from mloop.store import get_store

    parsed = load_config(config)
    authenticate = config_authenticator(parsed)
    if authenticate is None and host not in _LOOPBACK:
        raise InvalidInput(
            f"--host {host} would expose a gateway without keys; add api_keys to {config} "
            "(docs/genai-gateway.md), or listen on 127.0.0.1."
        )
    app = create_gateway_app(parsed, authenticate, store=get_store() if ledger else None)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
