"""mloop's errors: every one a :class:`MloopError` (see :mod:`mloop.core.errors`)."""

from mloop.core.errors import (
    AlreadyExists,
    ConfigError,
    Conflict,
    GateFailed,
    IntegrityError,
    InvalidInput,
    MloopError,
    NotFound,
    StoreUnavailable,
)

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
]
