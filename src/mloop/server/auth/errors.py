"""Authentication and authorization errors, each with its HTTP status."""

from __future__ import annotations

from mloop.core.errors import MloopError


class Unauthenticated(MloopError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    http_status = 401


class Forbidden(MloopError):
    """The principal is known but its role or its token's scopes do not allow the request."""

    http_status = 403


class TooManyRequests(MloopError):
    """Too many attempts (login) from one user or one client address."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
