"""Errors the gateway answers with, and their OpenAI-style bodies."""

from __future__ import annotations

from typing import Any

from mloop.core.errors import MloopError

__all__ = ["AuthenticationFailed", "NoDeployment", "RateLimited", "error_body"]


class RateLimited(MloopError):
    """A budget or rate limit would be exceeded; the message names the limit."""

    http_status = 429

    def __init__(self, message: str, *, limit: str, retry_after: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after = retry_after


class AuthenticationFailed(MloopError):
    http_status = 401


class NoDeployment(MloopError):
    """Every deployment of a route and of its fallbacks failed or is cooling down."""

    http_status = 503


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def error_body(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error shape, which its clients turn into typed exceptions."""
    kind = _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
