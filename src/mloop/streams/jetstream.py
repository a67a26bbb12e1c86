"""NATS JetStream with nats-py: ``nats://127.0.0.1:4222?subject=flights&stream=FLIGHTS``.

The stream is created when missing (``stream`` defaults to the subject in capitals). A
durable pull consumer named ``group`` (default ``mloop``) is shared by every process that
uses it: JetStream's consumer group. ``credit`` (default 1024) is its ``max_ack_pending``,
the bound on unacknowledged messages. Publishing sets ``Nats-Msg-Id`` to the idempotency
key, so JetStream drops a duplicate within its duplicate window (two minutes by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from typing import Any

from mloop.core.log import get_logger
from mloop.streams.address import Address
from mloop.streams.protocol import Message, settled

_log = get_logger("mloop.streams")


class _Connection:
    def __init__(self, address: Address) -> None:
        self.address = address
        self.url = address.url
        self.subject = address.name
        self.stream = (
            address.params.get("stream") or re.sub(r"[^A-Za-z0-9_-]", "_", address.name).upper()
        )
        self.client: Any = None
        self.js: Any = None

    async def _connect(self) -> None:
        import nats
        from nats.js.errors import NotFoundError

        self.client = await nats.connect(
            servers=[self.address.server],
            connect_timeout=5,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
        )
        self.js = self.client.jetstream()
        try:
            info = await self.js.stream_info(self.stream)
        except NotFoundError:
            await self.js.add_stream(name=self.stream, subjects=[self.subject])
        else:
            subjects = list(info.config.subjects or [])
            if self.subject not in subjects:
                await self.js.update_stream(name=self.stream, subjects=[*subjects, self.subject])

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()  # acks were flushed; drain would wait on an open pull
            self.client = None


class JetStreamSource(_Connection):
    """A durable pull consumer: ``fetch`` asks for at most the batch it can process."""

    def __init__(self, address: Address) -> None:
        super().__init__(address)
        self.credit = address.integer("credit", 1024, low=1)
        self.ack_wait = address.integer("ack_wait", 30, low=1)
        self._subscription: Any = None
        self._in_flight: dict[int, Any] = {}  # fetched, not yet acknowledged: returned on close

    async def open(self) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        await self._connect()
        config = ConsumerConfig(
            durable_name=self.address.group,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_ack_pending=self.credit,
            ack_wait=float(self.ack_wait),
            filter_subject=self.subject,
        )
        self._subscription = await self.js.pull_subscribe(
            self.subject, durable=self.address.group, stream=self.stream, config=config
        )

    async def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        import nats.errors

        try:
            messages = await self._subscription.fetch(max_messages, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        self._in_flight.update((id(m), m) for m in messages)
        return [Message(m.data, m, m.metadata.num_delivered > 1) for m in messages]

    async def ack(self, messages: Sequence[Message]) -> None:
        """Acknowledge; an ack lost with the connection only means a redelivery after
        ``ack_wait``, which the runner's ledger turns into a duplicate, so it is not an error."""
        for m in messages:
            self._in_flight.pop(id(m.handle), None)
        try:
            for m in messages:  # each ack is a buffered publish: no task per message
                await m.handle.ack()
            await self.client.flush(timeout=5)
        except Exception as exc:
            _log.warning("JetStream %s: acknowledgements may be lost: %s", self.stream, exc)

    async def nack(self, messages: Sequence[Message]) -> None:
        pending = [m.handle for m in messages if not m.handle._ackd]
        for m in messages:
            self._in_flight.pop(id(m.handle), None)
        with contextlib.suppress(Exception):  # unreachable: redelivered after ack_wait anyway
            await asyncio.gather(*(h.nak() for h in pending))

    async def close(self) -> None:
        """Return the unacknowledged messages at once (not after ``ack_wait``), then leave."""
        pending = [h for h in self._in_flight.values() if not h._ackd]
        self._in_flight.clear()
        if self.client is not None and pending:
            with contextlib.suppress(Exception):
                await asyncio.gather(*(h.nak() for h in pending))
        await super().close()


class JetStreamSink(_Connection):
    """Publishes with ``Nats-Msg-Id`` and waits for every acknowledgement of the stream.

    The batch goes out with ``publish_async`` (nats-py buffers the writes and flushes them
    together), then every PubAck is awaited: not one request round trip per message.
    """

    async def open(self) -> None:
        await self._connect()

    async def publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        if not messages:
            return
        if hasattr(self.js, "publish_async"):
            acks = [
                await self.js.publish_async(
                    self.subject, body, stream=self.stream, headers={"Nats-Msg-Id": key}
                )
                for key, body in messages
            ]
            await settled(acks, 60)
            return
        await asyncio.gather(
            *(
                self.js.publish(
                    self.subject, body, stream=self.stream, headers={"Nats-Msg-Id": key}
                )
                for key, body in messages
            )
        )
