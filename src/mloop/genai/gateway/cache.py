"""Response caches, exact and semantic: SQLite by default, Redis at scale.

- Exact: the key hashes the route, the messages, the parameters *and* the user and
  workspace, so one user's cached answer is never served to another.
- Semantic: answers are stored with the embedding of their prompt under a scope that hashes
  the route, user, workspace and parameters; a new prompt whose embedding has a cosine
  similarity of at least the route's threshold with a stored one gets that answer. Only the
  newest :data:`SEMANTIC_SCAN` entries of a scope are compared (a bounded scan).

Entries expire after the route's ``cache.ttl_seconds``; the SQLite cache keeps at most
``max_entries`` of each kind (oldest go first). Both are off unless a route turns them on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError
from mloop.genai.gateway.hooks import CallContext
from mloop.genai.providers.base import ChatResponse, Usage

__all__ = [
    "RedisCache",
    "ResponseCache",
    "SQLiteCache",
    "cache_key",
    "open_cache",
    "prompt_text",
    "semantic_scope",
]


SEMANTIC_SCAN = 1000


def semantic_scope(call: CallContext) -> str:
    """Who may share semantic hits: same route, user, workspace and parameters."""
    material = orjson.dumps(
        [call.route, call.principal.workspace, call.principal.name, call.params],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


def prompt_text(call: CallContext) -> str:
    """The text whose embedding stands for the prompt: every message, with its role."""
    return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in call.messages)


def _best(vectors: list[bytes], vector: np.ndarray, threshold: float) -> int | None:
    """Index of the stored vector most similar to ``vector`` if at least ``threshold``."""
    if not vectors:
        return None
    matrix = np.frombuffer(b"".join(vectors), dtype=np.float32).reshape(len(vectors), -1)
    if matrix.shape[1] != vector.shape[0]:
        return None
    query = vector / max(float(np.linalg.norm(vector)), 1e-12)
    norms = np.clip(np.linalg.norm(matrix, axis=1), 1e-12, None)
    scores = matrix @ query / norms
    best = int(np.argmax(scores))
    return best if scores[best] >= threshold else None


def cache_key(call: CallContext) -> str:
    """The key of a chat call: same route, prompt, parameters, user and workspace."""
    material = orjson.dumps(
        [call.route, call.principal.workspace, call.principal.name, call.messages, call.params],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


def _encode(response: ChatResponse) -> bytes:
    return orjson.dumps(
        {
            "content": response.content,
            "model": response.model,
            "finish_reason": response.finish_reason,
            "usage": [response.usage.input_tokens, response.usage.output_tokens],
        }
    )


def _decode(raw: bytes) -> ChatResponse:
    data = orjson.loads(raw)
    return ChatResponse(
        data["content"], data["model"], data["finish_reason"], Usage(*data["usage"])
    )


class ResponseCache(Protocol):
    async def get(self, key: str) -> ChatResponse | None: ...

    async def put(self, key: str, response: ChatResponse, ttl_seconds: float) -> None: ...

    async def nearest(
        self, scope: str, vector: np.ndarray, threshold: float
    ) -> ChatResponse | None: ...

    async def add(
        self, scope: str, vector: np.ndarray, response: ChatResponse, ttl_seconds: float
    ) -> None: ...

    async def aclose(self) -> None: ...


class SQLiteCache:
    """One SQLite file (WAL); calls run in a thread so the event loop never waits on disk."""

    def __init__(self, path: str | Path, max_entries: int = 100_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_entries = max_entries
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS gateway_cache "
            "(key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL NOT NULL, stored REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS gateway_semantic_cache (scope TEXT NOT NULL, "
            "vector BLOB NOT NULL, value BLOB NOT NULL, expires REAL NOT NULL, stored REAL NOT NULL)"
        )
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS ix_gateway_semantic_scope ON gateway_semantic_cache (scope, stored)"
        )
        self._lock = asyncio.Lock()

    def _nearest(self, scope: str, vector: np.ndarray, threshold: float) -> bytes | None:
        rows = self._db.execute(
            "SELECT vector, value FROM gateway_semantic_cache WHERE scope = ? AND expires > ? "
            "ORDER BY stored DESC LIMIT ?",
            (scope, time.time(), SEMANTIC_SCAN),
        ).fetchall()
        best = _best([bytes(r[0]) for r in rows], vector, threshold)
        return None if best is None else bytes(rows[best][1])

    def _add(self, scope: str, vector: bytes, value: bytes, ttl: float) -> None:
        now = time.time()
        self._db.execute(
            "INSERT INTO gateway_semantic_cache VALUES (?, ?, ?, ?, ?)",
            (scope, vector, value, now + ttl, now),
        )
        (count,) = self._db.execute("SELECT count(*) FROM gateway_semantic_cache").fetchone()
        if count > self.max_entries:
            self._db.execute("DELETE FROM gateway_semantic_cache WHERE expires <= ?", (now,))
            self._db.execute(
                "DELETE FROM gateway_semantic_cache WHERE rowid IN "
                "(SELECT rowid FROM gateway_semantic_cache ORDER BY stored LIMIT ?)",
                (max(0, count - self.max_entries),),
            )

    async def nearest(
        self, scope: str, vector: np.ndarray, threshold: float
    ) -> ChatResponse | None:
        async with self._lock:
            raw = await asyncio.to_thread(
                self._nearest, scope, vector.astype(np.float32), threshold
            )
        return None if raw is None else _decode(raw)

    async def add(
        self, scope: str, vector: np.ndarray, response: ChatResponse, ttl_seconds: float
    ) -> None:
        blob = vector.astype(np.float32).tobytes()
        async with self._lock:
            await asyncio.to_thread(self._add, scope, blob, _encode(response), ttl_seconds)

    def _get(self, key: str) -> bytes | None:
        row = self._db.execute(
            "SELECT value FROM gateway_cache WHERE key = ? AND expires > ?", (key, time.time())
        ).fetchone()
        return None if row is None else bytes(row[0])

    def _put(self, key: str, value: bytes, ttl: float) -> None:
        now = time.time()
        self._db.execute(
            "INSERT OR REPLACE INTO gateway_cache VALUES (?, ?, ?, ?)", (key, value, now + ttl, now)
        )
        (count,) = self._db.execute("SELECT count(*) FROM gateway_cache").fetchone()
        if count > self.max_entries:
            self._db.execute("DELETE FROM gateway_cache WHERE expires <= ?", (now,))
            self._db.execute(
                "DELETE FROM gateway_cache WHERE key IN "
                "(SELECT key FROM gateway_cache ORDER BY stored LIMIT ?)",
                (max(0, count - self.max_entries),),
            )

    async def get(self, key: str) -> ChatResponse | None:
        async with self._lock:
            raw = await asyncio.to_thread(self._get, key)
        return None if raw is None else _decode(raw)

    async def put(self, key: str, response: ChatResponse, ttl_seconds: float) -> None:
        async with self._lock:
            await asyncio.to_thread(self._put, key, _encode(response), ttl_seconds)

    async def aclose(self) -> None:
        self._db.close()


class RedisCache:
    """Entries as Redis strings with a TTL, shared by every gateway process."""

    def __init__(self, url: str, prefix: str = "mloop:gw:cache:") -> None:
        import redis.asyncio as redis_asyncio

        # a blocking pool: a burst waits for a connection instead of failing
        pool = redis_asyncio.BlockingConnectionPool.from_url(url, max_connections=64, timeout=10)
        self._redis: Any = redis_asyncio.Redis(connection_pool=pool)
        self._prefix = prefix

    async def get(self, key: str) -> ChatResponse | None:
        raw = await self._redis.get(self._prefix + key)
        return None if raw is None else _decode(raw)

    async def put(self, key: str, response: ChatResponse, ttl_seconds: float) -> None:
        await self._redis.set(self._prefix + key, _encode(response), px=int(ttl_seconds * 1000))

    async def nearest(
        self, scope: str, vector: np.ndarray, threshold: float
    ) -> ChatResponse | None:
        entries = await self._redis.lrange(self._prefix + "sem:" + scope, 0, SEMANTIC_SCAN - 1)
        now = time.time()
        live = [orjson.loads(e) for e in entries]
        live = [e for e in live if e["expires"] > now]
        best = _best(
            [base64.b64decode(e["vector"]) for e in live], vector.astype(np.float32), threshold
        )
        return None if best is None else _decode(base64.b64decode(live[best]["value"]))

    async def add(
        self, scope: str, vector: np.ndarray, response: ChatResponse, ttl_seconds: float
    ) -> None:
        entry = {
            "vector": base64.b64encode(vector.astype(np.float32).tobytes()).decode(),
            "value": base64.b64encode(_encode(response)).decode(),
            "expires": time.time() + ttl_seconds,
        }
        key = self._prefix + "sem:" + scope
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, orjson.dumps(entry))
            pipe.ltrim(key, 0, SEMANTIC_SCAN - 1)
            pipe.expire(key, int(ttl_seconds) + 1)
            await pipe.execute()

    async def aclose(self) -> None:
        await self._redis.aclose(close_connection_pool=True)


def open_cache(url: str, max_entries: int = 100_000) -> ResponseCache:
    """``sqlite:///path`` (``{home}`` is mloop's home folder) or ``redis://host:port/db``."""
    if url.startswith(("redis://", "rediss://")):
        return RedisCache(url)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///").replace("{home}", str(get_settings().home))
        return SQLiteCache(path, max_entries)
    raise ConfigError(
        f"cache.url {url!r} is not supported; use sqlite:///path/to/cache.db or redis://host:6379/0."
    )
