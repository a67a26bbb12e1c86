"""Online stores: the latest feature row of each entity, read in batches at serving time.

One small protocol, :class:`OnlineStore`, with two backends chosen by the ``online_url``
setting: SQLite (``sqlite:///path``, the default) and Redis (``redis://host:port/db``,
with an optional ``?prefix=`` for key isolation). Both keep, for each view version and
entity key, the event time (microseconds, UTC) and the encoded feature values; a write
never replaces a newer row with an older one. One contract test suite runs on both.
"""

from __future__ import annotations

from mloop.core.errors import ConfigError
from mloop.features.online.protocol import OnlineStore, Row
from mloop.features.online.redis import RedisOnlineStore
from mloop.features.online.sqlite import SqliteOnlineStore

__all__ = ["OnlineStore", "Row", "open_online_store"]


def open_online_store(url: str) -> OnlineStore:
    """The backend for ``url`` (``sqlite:///...`` or ``redis://...``)."""
    if url.startswith("sqlite:///"):
        return SqliteOnlineStore(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(url)
    raise ConfigError(
        f"online_url = {url!r} is not an online store; use sqlite:///path/online.db or "
        "redis://host:6379/0 (MLOOP_ONLINE_URL)."
    )
