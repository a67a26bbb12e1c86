"""The one error hierarchy of mloop.

Every error a user can cause is a :class:`MloopError` whose message names the thing,
the bad value and what to do. The CLI prints the message (no traceback) and the
servers map each class to one HTTP status through :attr:`MloopError.http_status`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "AlreadyExists",
    "ConfigError",
    "Conflict",
    "GateFailed",
    "IntegrityError",
    "InvalidInput",
    "MloopError",
    "NotFound",
    "StoreUnavailable",
    "did_you_mean",
]


class MloopError(Exception):
    """Base class of every error mloop raises on purpose."""

    http_status = 500


class InvalidInput(MloopError, ValueError):
    """An argument, a file or a request does not have the expected form."""

    http_status = 422


class NotFound(MloopError, LookupError):
    """The named thing (run, model, alias, dataset, feature...) does not exist."""

    http_status = 404


class AlreadyExists(MloopError):
    """Creating something whose name is taken."""

    http_status = 409


class Conflict(MloopError):
    """The request contradicts stored state (e.g. re-logging a param with a new value)."""

    http_status = 409


class ConfigError(MloopError):
    """The configuration (environment, mloop.toml) is invalid."""

    http_status = 500


class StoreUnavailable(MloopError):
    """A backing service (database, object store, Redis) cannot be reached."""

    http_status = 503


class IntegrityError(MloopError):
    """Stored bytes no longer match their recorded checksum."""

    http_status = 500


class GateFailed(MloopError):
    """A validation gate refused a promotion; ``results`` holds every rule's verdict."""

    http_status = 409

    def __init__(self, message: str, results: object = None) -> None:
        super().__init__(message)
        self.results = results


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""`` when none is close.

    >>> did_you_mean("acuracy", ["accuracy", "loss"])
    " Did you mean 'accuracy'?"
    """
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
