"""RabbitMQ (AMQP 0-9-1) with aio-pika: ``amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights``.

The queue is declared durable; consumers of one queue share its messages (RabbitMQ's
competing consumers are its consumer group). ``prefetch`` (default 512) bounds the
unacknowledged messages the broker hands this process. Published messages are persistent,
carry the idempotency key as ``message_id`` and are confirmed by the broker; a batch is
written to the socket at once and its confirms awaited together
(docs/decisions/0164-streams-batched-publishing.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from mloop.streams.address import Address
from mloop.streams.protocol import Message, drain, settled


class _Connection:
    def __init__(self, address: Address) -> None:
        self.address = address
        self.url = address.url
        self.connection: Any = None
        self.channel: Any = None
        self.queue: Any = None

    async def _connect(self, prefetch: int) -> None:
        import aio_pika

        self.connection = await aio_pika.connect_robust(self.address.server, timeout=10)
        self.channel = await self.connection.channel(publisher_confirms=True)
        await self.channel.set_qos(prefetch_count=prefetch)
        self.queue = await self.channel.declare_queue(self.address.name, durable=True)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None


class RabbitMQSource(_Connection):
    """Consumes a durable queue with a bounded prefetch."""

    def __init__(self, address: Address) -> None:
        super().__init__(address)
        self.prefetch = address.integer("prefetch", 512, low=1)
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()

    async def open(self) -> None:
        await self._connect(self.prefetch)
        await self.queue.consume(self._inbox.put, no_ack=False)

    async def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        batch = await drain(self._inbox, max_messages, timeout)
        return [Message(m.body, m, bool(m.redelivered)) for m in batch]

    async def ack(self, messages: Sequence[Message]) -> None:
        """One ``basic.ack`` with ``multiple``: a batch holds the oldest deliveries of the
        channel (earlier batches were settled), so its highest tag covers exactly it."""
        if messages:
            await _last(messages).ack(multiple=True)

    async def nack(self, messages: Sequence[Message]) -> None:
        if messages:
            await _last(messages).nack(multiple=True, requeue=True)


def _last(messages: Sequence[Message]) -> Any:
    return max((m.handle for m in messages), key=lambda h: h.delivery_tag)


class RabbitMQSink(_Connection):
    """Publishes persistent, confirmed messages to a durable queue (default exchange)."""

    async def open(self) -> None:
        await self._connect(1)

    async def publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        if not messages:
            return
        channel = await self.channel.get_underlay_channel()
        if _batchable(channel):
            confirms = await _write_batch(channel, self.address.name, messages)
            await settled(confirms, _CONFIRM_SECONDS)
            return
        await self._publish_each(messages)

    async def _publish_each(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """aio-pika's public path: one write and one confirm future per message."""
        import aio_pika

        exchange = self.channel.default_exchange
        name = self.address.name
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        body,
                        message_id=key,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=name,
                )
                for key, body in messages
            )
        )


_CONFIRM_SECONDS = 60.0
_CHANNEL_PARTS = (
    "lock",
    "delivery_tag",
    "confirmations",
    "create_future",
    "write_queue",
    "_split_body",
    "number",
)


def _batchable(channel: Any) -> bool:
    """Whether the aiormq channel has the parts :func:`_write_batch` uses (aiormq 7.x)."""
    return bool(getattr(channel, "publisher_confirms", False)) and all(
        hasattr(channel, part) for part in _CHANNEL_PARTS
    )


async def _write_batch(
    channel: Any, queue: str, messages: Sequence[tuple[str, bytes]]
) -> list[asyncio.Future[Any]]:
    """Every message of the batch in one frame set, one socket write; a confirm future each.

    What aiormq's ``basic_publish`` does per message (the channel lock, the next delivery
    tag, a confirmation future, the frames on the connection's write queue), done once for
    the batch: aiormq waits for the socket to drain after each message, which costs a
    system call and an event-loop turn per message (decision 0164).
    """
    from aiormq.abc import ChannelFrame
    from pamqp import commands as spec
    from pamqp.header import ContentHeader

    frames: list[Any] = []
    for key, body in messages:
        properties = spec.Basic.Properties(
            message_id=key, content_type="application/json", delivery_mode=2
        )
        frames.append(spec.Basic.Publish(exchange="", routing_key=queue))
        frames.append(ContentHeader(properties=properties, body_size=len(body)))
        frames.extend(channel._split_body(body))
    payload = ChannelFrame.marshall(frames=frames, channel_number=channel.number)
    async with channel.lock:
        confirms = []
        for _ in messages:
            channel.delivery_tag += 1
            future = channel.create_future()
            channel.confirmations[channel.delivery_tag] = future
            confirms.append(future)
        channel.write_queue.put_nowait(payload)  # unbounded: never waits, never fails
    return confirms
