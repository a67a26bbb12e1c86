"""The source/sink protocol on each real broker: publish, consume, acknowledge, redeliver."""

from __future__ import annotations

import asyncio
import re

import orjson
import pytest

from mloop.core.errors import InvalidInput
from mloop.streams import brokers
from mloop.streams.address import dead_letter_url, parse_url
from tests.streams.conftest import fresh, url_for


async def _drain(
    source: brokers.Source, expected: int, timeout: float = 10.0, ack: bool = False
) -> list:
    """Fetch until ``expected`` messages came (acknowledging each batch when ``ack``)."""
    got: list = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < expected and asyncio.get_running_loop().time() < deadline:
        batch = await source.fetch(expected - len(got), 0.5)
        if ack:
            await source.ack(batch)
        got += batch
    return got


def test_a_sink_publishes_what_a_source_consumes_once_acknowledged(broker: str) -> None:
    url = url_for(broker, fresh())

    async def scenario() -> None:
        source, sink = brokers.source(url), brokers.sink(url)
        await source.open()  # MQTT: the session must exist before the publish
        await sink.open()
        bodies = [orjson.dumps({"request_id": f"r{i}", "amount": i}) for i in range(50)]
        await sink.publish([(f"r{i}", b) for i, b in enumerate(bodies)])
        got = await _drain(source, 50, ack=True)  # MQTT sends 20 until some are acknowledged
        assert sorted(m.body for m in got) == sorted(bodies)
        assert await source.fetch(10, 0.5) == []
        await source.close()
        await sink.close()

    asyncio.run(scenario())


def test_a_refused_message_is_delivered_again(broker: str) -> None:
    url = url_for(broker, fresh())

    async def scenario() -> None:
        source, sink = brokers.source(url), brokers.sink(url)
        await source.open()
        await sink.open()
        await sink.publish([("k1", b'{"request_id": "k1"}')])
        first = await _drain(source, 1)
        assert [m.body for m in first] == [b'{"request_id": "k1"}']
        await source.nack(first)
        again = await _drain(source, 1)
        assert [m.body for m in again] == [b'{"request_id": "k1"}']
        assert again[0].redelivered or broker == "mqtt"  # MQTT sets dup only on QoS re-sends
        await source.ack(again)
        await source.close()
        await sink.close()

    asyncio.run(scenario())


def test_an_unacknowledged_message_comes_back_after_the_consumer_closes(broker: str) -> None:
    options = {"consumer": "c1", "claim_idle_ms": "200"} if broker == "redis" else {}
    url = url_for(broker, fresh(), **options)

    async def scenario() -> None:
        source, sink = brokers.source(url), brokers.sink(url)
        await source.open()
        await sink.open()
        await sink.publish([(f"k{i}", b'{"n": %d}' % i) for i in range(5)])
        got = await _drain(source, 5)
        assert len(got) == 5
        await source.ack(got[:2])
        await source.close()  # dies with three unacknowledged
        await asyncio.sleep(0.3)
        source = brokers.source(url)
        await source.open()
        back = await _drain(source, 3)
        assert sorted(m.body for m in back) == sorted(m.body for m in got[2:])
        await source.ack(back)
        await source.close()
        await sink.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("broker", ["redis", "nats"])
def test_a_sink_with_broker_deduplication_publishes_a_key_once(broker: str) -> None:
    from tests.streams.conftest import require

    require(broker)
    url = url_for(broker, fresh())

    async def scenario() -> None:
        source, sink = brokers.source(url), brokers.sink(url)
        await source.open()
        await sink.open()
        await sink.publish([("same", b'{"v": 1}'), ("other", b'{"v": 2}')])
        await sink.publish([("same", b'{"v": 1}')])  # a redelivered event acting again
        got = await _drain(source, 3, timeout=2.0)
        assert sorted(m.body for m in got) == [b'{"v": 1}', b'{"v": 2}']
        await source.ack(got)
        await source.close()
        await sink.close()

    asyncio.run(scenario())


def test_urls_are_parsed_as_the_issue_writes_them() -> None:
    amqp = parse_url("amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights")
    assert (amqp.name, amqp.path, amqp.username, amqp.port) == ("flights", "/", "guest", 5672)
    assert "guest:guest" not in amqp.safe
    nats = parse_url("nats://127.0.0.1:4222?subject=flights&stream=FLIGHTS")
    assert (nats.name, nats.params["stream"], nats.group) == ("flights", "FLIGHTS", "mloop")
    mqtt = parse_url("mqtt://127.0.0.1:1883?topic=flights&qos=1")
    assert (mqtt.name, mqtt.integer("qos", 0)) == ("flights", 1)
    redis = parse_url("redis://127.0.0.1:6379/0?stream=flights&group=mloop")
    assert (redis.name, redis.path, redis.group) == ("flights", "0", "mloop")
    assert dead_letter_url("nats://127.0.0.1:4222?subject=flights&stream=FLIGHTS") == (
        "nats://127.0.0.1:4222?subject=flights.dead&stream=FLIGHTS_DEAD"
    )


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("kafka://127.0.0.1:9092?topic=x", "scheme 'kafka' is not supported"),
        ("amqp://127.0.0.1:5672/%2f", "names no queue; add ?queue=<name>"),
        ("nats://127.0.0.1:4222?subjet=flights", "unknown option 'subjet'"),
        ("redis://127.0.0.1:6379/0?stream=a&stream=b", "option 'stream' is given twice"),
        ("amqp://127.0.0.1/%2f?queue=q&prefetch=-3", "prefetch='-3' must be an integer"),
        ("flights", "is not a URL"),
    ],
)
def test_a_bad_url_is_refused_with_the_fix(url: str, hint: str) -> None:
    def parse_and_read() -> None:
        parse_url(url).integer("prefetch", 1, low=1)

    with pytest.raises(InvalidInput, match=re.escape(hint)):
        parse_and_read()
