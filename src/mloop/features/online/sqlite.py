"""The SQLite online store (default): one WITHOUT ROWID table keyed by (namespace, entity key).

Each thread has its own connection (WAL mode, so readers never wait for a writer).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from mloop.core.errors import StoreUnavailable
from mloop.features.online.protocol import Row

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_features (
    namespace TEXT NOT NULL, entity_key TEXT NOT NULL, event_ts INTEGER NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (namespace, entity_key)
) WITHOUT ROWID
"""
_UPSERT = """
INSERT INTO online_features (namespace, entity_key, event_ts, payload) VALUES (?, ?, ?, ?)
ON CONFLICT (namespace, entity_key) DO UPDATE SET event_ts = excluded.event_ts, payload = excluded.payload
WHERE excluded.event_ts >= online_features.event_ts
"""
_CHUNK = 500  # keys per SELECT ... IN (...)


class SqliteOnlineStore:
    """Online features in a SQLite file."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = url[len("sqlite:///") :]
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreUnavailable(
                    f"cannot open the online store {self.url}: {exc}. Check MLOOP_ONLINE_URL."
                ) from None
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def write(self, namespace: str, rows: Sequence[Row]) -> int:
        conn = self._conn()
        with conn:
            before = conn.total_changes
            conn.executemany(_UPSERT, [(namespace, key, ts, payload) for key, ts, payload in rows])
            return conn.total_changes - before

    def read(
        self, requests: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[tuple[int, bytes] | None]]:
        conn = self._conn()
        out: list[list[tuple[int, bytes] | None]] = []
        for namespace, keys in requests:
            found: dict[str, tuple[int, bytes]] = {}
            unique = list(dict.fromkeys(keys))
            for first in range(0, len(unique), _CHUNK):
                chunk = unique[first : first + _CHUNK]
                marks = ",".join("?" * len(chunk))
                cursor = conn.execute(
                    "SELECT entity_key, event_ts, payload FROM online_features "
                    f"WHERE namespace = ? AND entity_key IN ({marks})",
                    (namespace, *chunk),
                )
                found.update({key: (ts, payload) for key, ts, payload in cursor.fetchall()})
            out.append([found.get(key) for key in keys])
        return out

    def delete(self, namespace: str) -> None:
        conn = self._conn()
        with conn:
            conn.execute("DELETE FROM online_features WHERE namespace = ?", (namespace,))

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __repr__(self) -> str:
        return f"SqliteOnlineStore({self.url!r})"
