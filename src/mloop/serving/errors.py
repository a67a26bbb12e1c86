"""Errors of serving that have no place in the shared hierarchy: each maps to one HTTP status."""

from __future__ import annotations

from mloop.core.errors import InvalidInput, MloopError


class BadRequest(InvalidInput):
    """The body is not JSON at all (malformed, empty): 400."""

    http_status = 400


class PayloadTooLarge(InvalidInput):
    """The body is over the server's limit: 413."""

    http_status = 413


class UnsupportedMediaType(InvalidInput):
    """The body is not ``application/json``: 415."""

    http_status = 415


class Overloaded(MloopError):
    """The request queue is full; retry after a moment: 429."""

    http_status = 429


class RequestTimeout(MloopError):
    """The request waited longer than the per-request timeout: 504."""

    http_status = 504


class ShuttingDown(MloopError):
    """The server is draining for shutdown and takes no new requests: 503."""

    http_status = 503
