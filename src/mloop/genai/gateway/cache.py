"""The exact-match response cache: SQLite by default, Redis at scale.

A key hashes the route, the messages, the parameters *and* the user and workspace, so one
user's cached answer is never served to another. Entries expire after the route's
``cache.ttl_seconds``; the SQLite cache also keeps at most ``max_entries`` (oldest go first).
Caching is off unless a route sets ``cache: {exact: true}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any, Protocol

import orjson

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError
from mloop.genai.gateway.hooks import CallContext
from mloop.genai.providers.base import ChatResponse, Usage

__all__ = ["RedisCache", "ResponseCache", "SQLiteCache", "cache_key", "open_cache"]


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
        self._lock = asyncio.Lock()

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
