"""Online stores: the latest feature row of each entity, read in batches at serving time.

One small protocol, :class:`OnlineStore`, with two backends chosen by the ``online_url``
setting: SQLite (``sqlite:///path``, the default) and Redis (``redis://host:port/db``,
with an optional ``?prefix=`` for key isolation). Both keep, for each view version and
entity key, the event time (microseconds, UTC) and the encoded feature values; a write
never replaces a newer row with an older one. One contract test suite runs on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["OnlineStore", "Row", "open_online_store"]

# (entity key, event time in microseconds, encoded values)
Row = tuple[str, int, bytes]


class OnlineStore(Protocol):
    """The latest feature values per (namespace, entity key)."""

    url: str

    def write(self, namespace: str, rows: Sequence[Row]) -> int:
        """Store ``rows``, keeping per key the one with the greatest event time; return the count kept."""
        ...

    def read(
        self, requests: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[tuple[int, bytes] | None]]:
        """For each ``(namespace, keys)``: ``(event time, values)`` per key, or None when absent."""
        ...

    def delete(self, namespace: str) -> None:
        """Forget every row of ``namespace``."""
        ...

    def close(self) -> None: ...


def open_online_store(url: str) -> OnlineStore:
    """The backend for ``url`` (``sqlite:///...`` or ``redis://...``)."""
    from mloop.core.errors import ConfigError

    if url.startswith("sqlite:///"):
        from mloop.features.online.sqlite import SqliteOnlineStore

        return SqliteOnlineStore(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from mloop.features.online.redis import RedisOnlineStore

        return RedisOnlineStore(url)
    raise ConfigError(
        f"online_url = {url!r} is not an online store; use sqlite:///path/online.db or "
        "redis://host:6379/0 (MLOOP_ONLINE_URL)."
    )
