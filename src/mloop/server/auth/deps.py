"""FastAPI dependencies that authenticate a request, check its permission and set its principal.

``read``, ``write`` and ``admin`` need the role viewer, editor or admin in the request's
workspace (header ``X-Mloop-Workspace``, else ``default``) and a token with the matching
scope (``admin`` implies ``write``, which implies ``read``). Each runs the rest of the
request inside :func:`~mloop.core.principal.acting_as`, so runs and audit entries record
the token's user. Tokens come as ``Authorization: Bearer <token>`` or as HTTP basic
``<user>:<token>`` (what MLflow's client sends).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from mloop.core.config import get_settings
from mloop.core.principal import Principal, acting_as
from mloop.server.auth import accounts, tokens
from mloop.server.auth.errors import Forbidden, Unauthenticated
from mloop.server.auth.limits import AttemptLimiter

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore

WORKSPACE_HEADER = "x-mloop-workspace"
_RANK = {"viewer": 0, "editor": 1, "admin": 2}
_IMPLIED = {"read": {"read", "write", "admin"}, "write": {"write", "admin"}, "admin": {"admin"}}
_LEVEL_ROLE = {"read": "viewer", "write": "editor", "admin": "admin"}


@dataclass
class AuthState:
    """The authentication settings of one app (``app.state.mloop_auth``)."""

    store: MetadataStore
    required: bool
    limiter: AttemptLimiter = field(default_factory=AttemptLimiter)


def credentials(request: Request) -> str | None:
    """The token of the request (bearer, or the password of HTTP basic), if any."""
    header = request.headers.get("authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() == "bearer" and value.strip():
        return value.strip()
    if kind.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated(
                "the basic authorization header is not base64 of user:token."
            ) from None
        return decoded.partition(":")[2] or None
    return None


def _workspace(request: Request) -> str:
    workspace = request.headers.get(WORKSPACE_HEADER) or accounts.DEFAULT_WORKSPACE
    return accounts.check_name(workspace, "workspace (header X-Mloop-Workspace)")


def _resolve(
    state: AuthState, secret: str, workspace: str
) -> tuple[tokens.Authenticated, str | None]:
    who = tokens.authenticate(state.store, secret)
    return who, accounts.role_in(state.store, who.user, workspace)


async def authenticate(request: Request, level: str, needed_scope: str | None = None) -> Principal:
    """The principal of ``request`` allowed at ``level`` (read, write or admin)."""
    state: AuthState = request.app.state.mloop_auth
    workspace = _workspace(request)
    if not state.required:
        anyone = get_settings().user or "anonymous"
        return Principal(anyone, workspace, "admin", frozenset(tokens.SCOPES), "user")
    secret = credentials(request)
    if secret is None:
        raise Unauthenticated(
            "this route needs a token: send 'Authorization: Bearer <token>' (create one with "
            "`mloop tokens create --user NAME` or POST /api/v1/auth/login)."
        )
    who, role = await run_in_threadpool(_resolve, state, secret, workspace)
    if role is None:
        raise Forbidden(f"user {who.user!r} is not a member of workspace {workspace!r}.")
    if _RANK[role] < _RANK[_LEVEL_ROLE[level]]:
        raise Forbidden(
            f"user {who.user!r} is {role} in workspace {workspace!r}; this route needs "
            f"{_LEVEL_ROLE[level]}."
        )
    if not who.scopes & _IMPLIED[level]:
        raise Forbidden(
            f"token {who.token_id} has scopes {sorted(who.scopes)}; this route needs {level!r}."
        )
    if needed_scope is not None and needed_scope not in who.scopes:
        raise Forbidden(
            f"token {who.token_id} has scopes {sorted(who.scopes)}; this route needs "
            f"{needed_scope!r}."
        )
    principal = Principal(who.user, workspace, role, who.scopes, who.kind)
    request.state.principal = principal
    return principal


async def read(request: Request) -> AsyncIterator[Principal]:
    """Viewer or more, with a ``read`` (or stronger) token; runs the request as it."""
    principal = await authenticate(request, "read")
    with acting_as(principal):
        yield principal


async def write(request: Request) -> AsyncIterator[Principal]:
    """Editor or more, with a ``write`` (or ``admin``) token; runs the request as it."""
    principal = await authenticate(request, "write")
    with acting_as(principal):
        yield principal


async def admin(request: Request) -> AsyncIterator[Principal]:
    """Admin of the workspace, with an ``admin`` token; runs the request as it."""
    principal = await authenticate(request, "admin")
    with acting_as(principal):
        yield principal


def scope(name: str, level: str = "write") -> Callable[[Request], Any]:
    """A dependency that also needs the token scope ``name`` (e.g. ``feedback``)."""

    async def dependency(request: Request) -> AsyncIterator[Principal]:
        principal = await authenticate(request, level, needed_scope=name)
        with acting_as(principal):
            yield principal

    return dependency
