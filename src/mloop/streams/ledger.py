"""The ledger: what has been done for each record key, so a redelivered event is not acted on twice.

A key moves ``acted`` (its output is published) → ``done`` (its prediction is in the
durable prediction log). A key seen ``done`` is a duplicate and only acknowledged; a key
seen ``acted`` (the process died between the two) is not published again, and is logged
only if the log does not hold it yet. See docs/decisions/0161-streams-delivery.md.

Two implementations: a SQLite file (default, under the mloop home; processes on one
machine share it) and Redis (``redis://...``; processes on several machines), whose keys
expire after ``ttl_days``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from mloop.core.errors import InvalidInput

ACTED = "acted"
DONE = "done"


class Ledger(Protocol):
    """What has been done for each record key (``acted``, then ``done``), kept durably."""

    def states(self, keys: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``{key: (state, ms since epoch)}`` for the keys the ledger knows."""
        ...

    def mark(self, keys: Sequence[str], state: str) -> None:
        """Record ``state`` for every key (durably, before returning)."""
        ...

    def close(self) -> None: ...


class SqliteLedger:
    """A ledger in a SQLite file (WAL: several processes of one machine can share it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS ledger (key TEXT PRIMARY KEY, state TEXT NOT NULL, "
            "ts INTEGER NOT NULL) WITHOUT ROWID"
        )
        self._conn.commit()

    def states(self, keys: Sequence[str]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = list(keys[start : start + 500])
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(
                    f"SELECT key, state, ts FROM ledger WHERE key IN ({marks})", part
                ).fetchall()
                found.update((k, (s, t)) for k, s, t in rows)
        return found

    def mark(self, keys: Sequence[str], state: str) -> None:
        if not keys:
            return
        now = int(time.time() * 1000)
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT INTO ledger (key, state, ts) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET state = excluded.state, ts = excluded.ts",
                [(k, state, now) for k in keys],
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class RedisLedger:
    """A ledger in Redis: one key per record key, expiring after ``ttl_days``."""

    def __init__(self, url: str, name: str, ttl_days: float = 7.0) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_connect_timeout=5)
        self.prefix = f"mloop:ledger:{name}:"
        self.ttl = int(ttl_days * 86_400)

    def states(self, keys: Sequence[str]) -> dict[str, tuple[str, int]]:
        if not keys:
            return {}
        values = self.client.mget([self.prefix + k for k in keys])
        found: dict[str, tuple[str, int]] = {}
        for key, value in zip(keys, values, strict=True):
            if value is not None:
                state, _, ts = value.decode().partition(":")
                found[key] = (state, int(ts))
        return found

    def mark(self, keys: Sequence[str], state: str) -> None:
        if not keys:
            return
        now = int(time.time() * 1000)
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.set(self.prefix + key, f"{state}:{now}", ex=self.ttl)
        pipe.execute()

    def close(self) -> None:
        self.client.close()


def open_ledger(spec: str | Ledger | None, name: str, home: Path) -> Ledger:
    """The ledger ``spec`` names: None (a SQLite file under ``home``), ``sqlite:///path``,
    ``redis://host:port/db``, or a ledger object."""
    if spec is None:
        return SqliteLedger(home / "streams" / f"{name}.ledger.db")
    if not isinstance(spec, str):
        return spec
    if spec.startswith("sqlite:///"):
        return SqliteLedger(spec[len("sqlite:///") :])
    if spec.startswith(("redis://", "rediss://")):
        return RedisLedger(spec, name)
    raise InvalidInput(
        f"ledger {spec!r} is not supported; give sqlite:///path/to/ledger.db or "
        "redis://127.0.0.1:6379/0 (processes on several machines need Redis)."
    )
