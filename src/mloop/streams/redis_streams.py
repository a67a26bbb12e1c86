"""Redis Streams with redis-py: ``redis://127.0.0.1:6379/0?stream=flights&group=mloop``.

Processes reading with the same ``group`` share the stream (XREADGROUP); each is a
``consumer`` (default ``<host>-<pid>``). A message stays pending until acknowledged
(XACK); a process first re-reads its own pending messages, and claims those of a consumer
silent for ``claim_idle_ms`` (default 30 s: a crashed one) with XAUTOCLAIM. A message's
JSON is its ``data`` field. Publishing runs one script per message that sets the
idempotency key (``SET NX``, kept ``dedup_ttl`` seconds) and appends only if it was new.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from mloop.streams.address import Address
from mloop.streams.protocol import Message

_PUBLISH_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  return redis.call('XADD', KEYS[1], '*', 'data', ARGV[1])
end
return false
"""


class _Connection:
    def __init__(self, address: Address) -> None:
        self.address = address
        self.url = address.url
        self.stream = address.name
        self.client: Any = None

    async def _connect(self) -> None:
        import redis.asyncio

        db = int(self.address.path or 0) if (self.address.path or "0").isdigit() else 0
        self.client = redis.asyncio.Redis(
            host=self.address.host,
            port=self.address.port or 6379,
            db=db,
            username=self.address.username,
            password=self.address.password,
            socket_connect_timeout=5,
        )
        await self.client.ping()

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None


class RedisStreamSource(_Connection):
    """A consumer of a consumer group; pending messages are re-read or claimed."""

    def __init__(self, address: Address) -> None:
        super().__init__(address)
        self.group = address.group
        self.consumer = address.params.get("consumer") or f"{socket.gethostname()}-{os.getpid()}"
        self.claim_idle_ms = address.integer("claim_idle_ms", 30_000, low=1)
        self._own_pending = True  # first re-read what this consumer had before a restart
        self._last_claim = 0.0

    async def open(self) -> None:
        import redis.exceptions

        await self._connect()
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        try:
            return await self._fetch(max_messages, timeout)
        except Exception:
            self._own_pending = True  # after a reconnection, first what was in flight
            raise

    async def _fetch(self, max_messages: int, timeout: float) -> list[Message]:
        if self._own_pending:
            entries = await self._read("0", max_messages, None)
            if entries:
                return [self._message(i, f, True) for i, f in entries]
            self._own_pending = False
        now = time.monotonic()
        if now - self._last_claim >= self.claim_idle_ms / 2000:
            self._last_claim = now
            claimed = await self.client.xautoclaim(
                self.stream, self.group, self.consumer, self.claim_idle_ms, "0-0", max_messages
            )
            entries = [(i, f) for i, f in claimed[1] if f is not None]
            if entries:
                return [self._message(i, f, True) for i, f in entries]
        entries = await self._read(">", max_messages, max(1, int(timeout * 1000)))
        return [self._message(i, f, False) for i, f in entries]

    async def _read(self, start: str, count: int, block: int | None) -> list[Any]:
        answer = await self.client.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=count, block=block
        )
        return list(answer[0][1]) if answer else []

    @staticmethod
    def _message(entry_id: Any, fields: dict[Any, Any], redelivered: bool) -> Message:
        data = fields.get(b"data")
        if data is None:  # not written by a sink of mloop: the fields themselves are the record
            import orjson

            data = orjson.dumps({k.decode(): v.decode() for k, v in fields.items()})
        return Message(bytes(data), entry_id, redelivered)

    async def ack(self, messages: Sequence[Message]) -> None:
        if messages:
            await self.client.xack(self.stream, self.group, *(m.handle for m in messages))

    async def nack(self, messages: Sequence[Message]) -> None:
        self._own_pending = True  # they stay pending: read them again next


class RedisStreamSink(_Connection):
    """Appends each message once per idempotency key (XADD behind ``SET NX``)."""

    def __init__(self, address: Address) -> None:
        super().__init__(address)
        self.ttl = address.integer("dedup_ttl", 86_400, low=1)
        self._script: Any = None

    async def open(self) -> None:
        await self._connect()
        self._script = self.client.register_script(_PUBLISH_ONCE)

    async def publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        if not messages:
            return
        pipe = self.client.pipeline(transaction=False)
        for key, body in messages:
            await self._script(
                keys=[self.stream, f"mloop:published:{self.stream}:{key}"],
                args=[body, self.ttl],
                client=pipe,
            )
        await pipe.execute()
