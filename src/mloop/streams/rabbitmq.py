"""RabbitMQ (AMQP 0-9-1) with aio-pika: ``amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights``.

The queue is declared durable; consumers of one queue share its messages (RabbitMQ's
competing consumers are its consumer group). ``prefetch`` (default 512) bounds the
unacknowledged messages the broker hands this process. Published messages are persistent,
carry the idempotency key as ``message_id`` and are confirmed by the broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from mloop.streams.address import Address
from mloop.streams.protocol import Message, drain


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
