"""Batched, confirmed publishing (decision 0164): every message once, in order, with its key."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mloop.streams import brokers, rabbitmq
from tests.streams.conftest import consume, fresh, require, url_for


async def _publish_then_read(url: str, n: int) -> tuple[list[bytes], list[str]]:
    sink = brokers.sink(url)
    await sink.open()
    try:
        await sink.publish([(f"k{i}", orjson.dumps({"i": i})) for i in range(n)])
    finally:
        await sink.close()
    source = brokers.source(url)
    await source.open()
    bodies: list[bytes] = []
    keys: list[str] = []
    try:
        while len(bodies) < n:
            batch = await source.fetch(1_000, 2.0)
            if not batch:
                break
            bodies += [m.body for m in batch]
            keys += [str(getattr(m.handle, "message_id", "")) for m in batch]
            await source.ack(batch)
    finally:
        await source.close()
    return bodies, keys


@pytest.mark.parametrize("batched", [True, False], ids=["one-write", "per-message"])
def test_a_rabbitmq_batch_arrives_once_in_order_with_its_keys(
    batched: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("amqp")
    if not batched:
        monkeypatch.setattr(rabbitmq, "_batchable", lambda channel: False)
    bodies, keys = asyncio.run(_publish_then_read(url_for("amqp", fresh("pub")), 2_500))
    assert [orjson.loads(b)["i"] for b in bodies] == list(range(2_500))
    assert keys == [f"k{i}" for i in range(2_500)]


def test_the_one_write_batch_is_what_aiormq_expects_of_a_channel() -> None:
    """A newer aiormq without these parts falls back to the per-message path, not a crash."""
    require("amqp")

    async def check() -> bool:
        sink = brokers.sink(url_for("amqp", fresh("pub")))
        await sink.open()
        try:
            channel = await sink.channel.get_underlay_channel()  # type: ignore[attr-defined]
            return rabbitmq._batchable(channel)
        finally:
            await sink.close()

    assert asyncio.run(check()) is True
    assert rabbitmq._batchable(object()) is False


def test_a_jetstream_batch_is_deduplicated_by_key_and_confirmed() -> None:
    require("nats")
    url = url_for("nats", fresh("pub"))

    async def twice() -> list[bytes]:
        sink = brokers.sink(url)
        await sink.open()
        try:
            messages = [(f"k{i}", orjson.dumps({"i": i})) for i in range(1_500)]
            await sink.publish(messages)
            await sink.publish(messages)  # a redelivered batch: Nats-Msg-Id drops the copies
        finally:
            await sink.close()
        return await consume(url, 3_000, timeout=4)

    bodies = asyncio.run(twice())
    assert [orjson.loads(b)["i"] for b in bodies] == list(range(1_500))
