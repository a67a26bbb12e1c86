"""The Redis online store: one string per (namespace, entity key): event time, then values.

Keys are ``<prefix>:<namespace>:<entity key>`` (prefix from ``?prefix=`` in the URL, default
``mloop``). A value is the event time as 20 zero-padded digits (offset so that times before
1970 sort too) followed by the encoded values, so that a Lua script can keep the newer row
by comparing text, and a read of any number of keys and views is one ``MGET``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mloop.core.errors import StoreUnavailable
from mloop.features.online.protocol import Row

_KEEP_NEWER = """
local kept = 0
for i = 1, #KEYS do
  local current = redis.call('GET', KEYS[i])
  if (not current) or string.sub(current, 1, 20) <= string.sub(ARGV[i], 1, 20) then
    redis.call('SET', KEYS[i], ARGV[i])
    kept = kept + 1
  end
end
return kept
"""
_OFFSET = 10**18  # event times in microseconds, shifted to be non-negative
_WIDTH = 20
_BATCH = 1000


def split_prefix(url: str) -> tuple[str, str]:
    """The Redis URL without ``prefix=`` and the prefix (default ``mloop``)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    prefix = next((v for k, v in query if k == "prefix"), "mloop")
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


class RedisOnlineStore:
    """Online features in Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        connect_url, self.prefix = split_prefix(url)
        self._errors: tuple[type[Exception], ...] = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
        )
        self.client: Any = redis.Redis.from_url(connect_url, socket_connect_timeout=5)
        self._script = self.client.register_script(_KEEP_NEWER)

    def _key(self, namespace: str, key: str) -> str:
        return f"{self.prefix}:{namespace}:{key}"

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"cannot reach the Redis online store {self.url}: {exc}. Check MLOOP_ONLINE_URL."
        )

    def write(self, namespace: str, rows: Sequence[Row]) -> int:
        kept = 0
        try:
            for first in range(0, len(rows), _BATCH):
                batch = rows[first : first + _BATCH]
                keys = [self._key(namespace, key) for key, _, _ in batch]
                args = [b"%020d" % (ts + _OFFSET) + payload for _, ts, payload in batch]
                kept += int(self._script(keys=keys, args=args))
        except self._errors as exc:
            raise self._unavailable(exc) from None
        return kept

    def read(
        self, requests: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[tuple[int, bytes] | None]]:
        names = [self._key(namespace, key) for namespace, keys in requests for key in keys]
        if not names:
            return [[] for _ in requests]
        try:
            answers = self.client.mget(names)
        except self._errors as exc:
            raise self._unavailable(exc) from None
        out: list[list[tuple[int, bytes] | None]] = []
        at = 0
        for _, keys in requests:
            values = answers[at : at + len(keys)]
            at += len(keys)
            out.append(
                [None if v is None else (int(v[:_WIDTH]) - _OFFSET, v[_WIDTH:]) for v in values]
            )
        return out

    def delete(self, namespace: str) -> None:
        try:
            batch = []
            for key in self.client.scan_iter(match=f"{self.prefix}:{namespace}:*", count=1000):
                batch.append(key)
                if len(batch) >= _BATCH:
                    self.client.delete(*batch)
                    batch = []
            if batch:
                self.client.delete(*batch)
        except self._errors as exc:
            raise self._unavailable(exc) from None

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"RedisOnlineStore({self.url!r})"
