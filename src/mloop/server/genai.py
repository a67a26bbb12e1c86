"""The gateway and the OTLP trace ingest on ``mloop server``, behind the server's tokens.

- ``POST /v1/traces`` (OTLP/HTTP) needs a token with ``write`` (an editor or more in the
  workspace of ``X-Mloop-Workspace``), like any other write.
- The gateway (``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``), mounted when
  ``mloop.toml`` has a ``[gateway]`` section, needs a token with the ``gateway`` scope; the
  stock ``openai`` client sends it as its ``api_key``. The call is counted against the
  token's user in its workspace: ``default`` when the user is a member there, else the
  first workspace (by name) the user belongs to.

Each call reads the token store (an indexed lookup), so a revoked token is refused at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from mloop.core.config import get_settings
from mloop.core.principal import Principal
from mloop.genai.gateway import create_gateway_router, load_config
from mloop.genai.gateway.http import Authenticate
from mloop.genai.tracing import create_tracing_router
from mloop.server.auth import write
from mloop.server.auth.bearer import TokenChecker
from mloop.server.auth.deps import AuthState
from mloop.store.db import MetadataStore

__all__ = ["gateway_authenticator", "mount_genai"]


def gateway_authenticator(store: MetadataStore) -> Authenticate:
    """``authenticate(token) -> Principal`` over the server's tokens, needing ``gateway``."""
    checker = TokenChecker(store)

    def authenticate(secret: str) -> Principal:
        return checker.check(secret, "gateway")

    return authenticate


def mount_genai(app: FastAPI, gateway_section: dict[str, Any] | None = None) -> None:
    """Mount ``/v1/traces`` always, and the gateway when there is a ``[gateway]`` section."""
    app.include_router(create_tracing_router(dependencies=[Depends(write)]))
    section = get_settings().section("gateway") if gateway_section is None else gateway_section
    if not section:
        return
    state: AuthState = app.state.mloop_auth
    authenticate = gateway_authenticator(state.store) if state.required else None
    router = create_gateway_router(load_config(section), authenticate, store=state.store)
    app.include_router(router)
    gateway = router.gateway  # type: ignore[attr-defined]
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        try:
            async with previous(target) as state:
                yield state
        finally:  # flush the usage ledger, close upstream connections
            await gateway.aclose()

    app.router.lifespan_context = lifespan
