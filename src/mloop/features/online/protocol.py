"""The online store protocol: what every backend (SQLite, Redis) implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
