"""The gateway and the OTLP trace ingest on ``mloop server``, behind the server's tokens.

- ``POST /v1/traces`` (OTLP/HTTP) needs a token with ``write`` (an editor or more in the
  workspace of ``X-Mloop-Workspace``), like any other write.
- The gateway (``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``), mounted when
  ``mloop.toml`` has a ``[gateway]`` section, needs a token with the ``gateway`` scope; the
  stock ``openai`` client sends it as its ``api_key``. The call is counted against the
  token's user in its workspace: ``default`` when the user is a member there, else the
  first workspace (by name) the user belongs to.

Token checks are cached for a few seconds per token (:data:`CACHE_SECONDS`) so the
gateway's hot path does not read the database on every call; a revoked token or a removed
membership is refused at most that long after.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import select

from mloop.core.config import get_settings
from mloop.core.principal import Principal
from mloop.genai.gateway import create_gateway_router, load_config
from mloop.genai.gateway.http import Authenticate
from mloop.genai.tracing import create_tracing_router
from mloop.server.auth import accounts, tokens, write
from mloop.server.auth.deps import AuthState
from mloop.server.auth.errors import Forbidden
from mloop.store.db import MetadataStore
from mloop.store.schema.auth import AuthMember

__all__ = ["CACHE_SECONDS", "gateway_authenticator", "mount_genai"]

CACHE_SECONDS = 5.0
_CACHE_SIZE = 10_000


def _workspace_of(store: MetadataStore, user: str) -> tuple[str, str] | None:
    """(workspace, role) the gateway counts ``user``'s calls in, or None if a member of none."""
    role = accounts.role_in(store, user, accounts.DEFAULT_WORKSPACE)
    if role is not None:
        return accounts.DEFAULT_WORKSPACE, role
    with store.read() as conn:
        row = conn.execute(
            select(AuthMember.workspace, AuthMember.role)
            .where(AuthMember.user == user)
            .order_by(AuthMember.workspace)
            .limit(1)
        ).first()
    return (str(row.workspace), str(row.role)) if row is not None else None


def gateway_authenticator(
    store: MetadataStore, *, cache_seconds: float = CACHE_SECONDS
) -> Authenticate:
    """``authenticate(token) -> Principal`` over the server's tokens, needing ``gateway``."""
    seen: dict[str, tuple[float, Principal]] = {}

    def check(secret: str) -> Principal:
        who = tokens.authenticate(store, secret)  # Unauthenticated (401) when not valid
        if "gateway" not in who.scopes:
            raise Forbidden(
                f"token {who.token_id} has scopes {sorted(who.scopes)}; the gateway needs "
                "'gateway' (mloop tokens create --user NAME --scope gateway)."
            )
        membership = _workspace_of(store, who.user)
        if membership is None:
            raise Forbidden(f"user {who.user!r} is not a member of any workspace.")
        workspace, role = membership
        return Principal(who.user, workspace, role, who.scopes, who.kind)

    def authenticate(secret: str) -> Principal:
        now = time.monotonic()
        cached = seen.get(secret)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = check(secret)
        if len(seen) >= _CACHE_SIZE:
            seen.clear()
        seen[secret] = (now + cache_seconds, principal)
        return principal

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
