"""The one small protocol every broker implements: a source and a sink.

A :class:`Source` hands out batches of :class:`Message` (at most ``max_messages``, the
broker holding back the rest: that bound is the backpressure), and forgets a message only
when it is acknowledged; a message returned with :meth:`Source.nack`, or never
acknowledged because the process died, is delivered again. A :class:`Sink` publishes
``(key, body)`` pairs and returns once the broker has them; the key is the idempotency key
(a message id the broker or the receiver deduplicates on).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass
class Message:
    """One message as received: its bytes, the broker's handle to acknowledge it, and
    whether the broker says it was delivered before."""

    body: bytes
    handle: Any = None
    redelivered: bool = False


@runtime_checkable
class Source(Protocol):
    """Consumes a stream in batches; acknowledges after processing; redelivers on failure."""

    url: str

    async def open(self) -> None: ...

    async def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to ``max_messages`` messages; fewer (or none) once ``timeout`` seconds pass."""
        ...

    async def ack(self, messages: Sequence[Message]) -> None: ...

    async def nack(self, messages: Sequence[Message]) -> None:
        """Give messages back to the broker for redelivery."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class Sink(Protocol):
    """Publishes messages; returns when the broker has accepted every one of them."""

    url: str

    async def open(self) -> None: ...

    async def publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Publish ``(idempotency key, body)`` pairs, in order."""
        ...

    async def close(self) -> None: ...


async def drain(inbox: asyncio.Queue[Any], max_messages: int, timeout: float) -> list[Any]:
    """What a push-style client (AMQP, MQTT) delivered into ``inbox``: wait up to ``timeout``
    seconds for the first item, then take what is already there, ``max_messages`` at most."""
    try:
        first = await asyncio.wait_for(inbox.get(), timeout)
    except TimeoutError:
        return []
    batch = [first]
    while len(batch) < max_messages and not inbox.empty():
        batch.append(inbox.get_nowait())
    return batch


async def settled(futures: Sequence[asyncio.Future[Any]], timeout: float) -> None:
    """Wait for every future (the broker's confirms of a batch), ``timeout`` seconds at most.

    Awaited one after the other: once the first is done the rest usually are, and this
    costs nothing per future, where ``asyncio.gather`` wraps each one (a measurable share
    of a 1,000-message batch).
    """

    async def each() -> None:
        for future in futures:
            await future

    await asyncio.wait_for(each(), timeout)
