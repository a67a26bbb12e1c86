"""The server's tokens in front of the model server and the feature server (issue 18).

When accounts exist in the metadata store (``mloop users create``) and
``MLOOP_SERVER_INSECURE`` is not set, :func:`token_guard` returns a :class:`TokenGuard`:
every route except the status and docs pages needs ``Authorization: Bearer <token>`` with
``read`` (predictions, online features, listings), ``write`` (``/features/refresh``) or
``feedback`` (``POST /v1/feedback``, which can trigger retraining). Without accounts it
returns None and the servers answer everyone, as the embedded, zero set-up mode always did.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import orjson

from mloop.core.errors import MloopError
from mloop.server.auth import accounts
from mloop.server.auth.bearer import TokenChecker
from mloop.serving import error_body
from mloop.store import get_store

__all__ = ["INSECURE_ENV", "GuardMiddleware", "TokenGuard", "token_guard"]

INSECURE_ENV = "MLOOP_SERVER_INSECURE"
PUBLIC = frozenset({"/healthz", "/readyz", "/health", "/ready", "/metrics", "/openapi.json"})
_DEFAULT_SCOPES = {
    ("POST", "/v1/feedback"): "feedback",
    ("POST", "/features/refresh"): "write",
}

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class TokenGuard:
    """Checks the bearer token of each HTTP request against the route's scope."""

    def __init__(
        self, checker: TokenChecker, scopes: Mapping[tuple[str, str], str] | None = None
    ) -> None:
        self.checker = checker
        self.scopes = dict(_DEFAULT_SCOPES if scopes is None else scopes)

    def needed(self, method: str, path: str) -> str | None:
        """The scope a request needs, or None for a public page."""
        if path in PUBLIC or path == "/docs" or path.startswith("/docs/"):
            return None
        return self.scopes.get((method, path), "read")

    async def allow(self, scope: MutableMapping[str, Any], send: Send) -> bool:
        """True when the request may go on; else the 401/403 answer has been sent."""
        needed = self.needed(scope.get("method", "GET"), scope.get("path", ""))
        if needed is None:
            return True
        authorization = ""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            principal = self.checker.header(authorization, needed)
        except MloopError as exc:
            status, body = error_body(exc)
            data = orjson.dumps(body)
            headers = [(b"content-type", b"application/json")]
            headers.append((b"content-length", b"%d" % len(data)))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return False
        scope.setdefault("state", {})["principal"] = principal
        return True


def token_guard(auth: bool | None = None) -> TokenGuard | None:
    """A guard when the server's authentication is configured (or ``auth`` is True)."""
    store = get_store()
    if auth is None:
        auth = os.environ.get(INSECURE_ENV) != "1" and accounts.any_account(store)
    return TokenGuard(TokenChecker(store)) if auth else None


class GuardMiddleware:
    """ASGI middleware: :meth:`TokenGuard.allow` before the app (``app.add_middleware``)."""

    def __init__(self, app: Any, guard: TokenGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] == "http" and not await self.guard.allow(scope, send):
            return
        await self.app(scope, receive, send)
