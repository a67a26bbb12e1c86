"""Faults: the consumer killed (SIGKILL) mid-stream and restarted loses and repeats nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

import mloop
from mloop.store.predictions import read_predictions
from tests.streams.conftest import fresh, publish, require, url_for

RECORDS = 2_000


def _consumer(model: str, source: str, sink: str, home: Path) -> subprocess.Popen[bytes]:
    """``mloop stream run`` in its own process (the way it runs in production)."""
    env = {**os.environ, "PYTHONPATH": str(Path(mloop.__file__).parents[1])}
    command = [sys.executable, "-m", "mloop", "stream", "run", model, "--source", source]
    command += ["--sink", sink, "--batch", "20", "--idle-exit", "3"]
    return subprocess.Popen(
        command, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@pytest.mark.slow
def test_a_consumer_killed_mid_stream_and_restarted_loses_nothing_and_repeats_nothing(
    champion: str, flights, mloop_home: Path
) -> None:
    require("amqp")
    require("redis")
    import redis

    source = url_for("amqp", fresh("in"))
    out_stream = fresh("out")
    sink = url_for("redis", out_stream)
    rows = flights.test.head(RECORDS // 4).to_dict(orient="records")
    records = [{"request_id": f"e{i}", **rows[i % len(rows)]} for i in range(RECORDS)]
    messages = [orjson.dumps(records[i : i + 5]) for i in range(0, RECORDS, 5)]
    asyncio.run(publish(source, messages))
    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        for kill_at in (400, 1_200):  # two crashes, each with batches in flight
            process = _consumer(champion, source, sink, mloop_home)
            deadline = time.monotonic() + 120
            while client.xlen(out_stream) < kill_at and time.monotonic() < deadline:
                assert process.poll() is None, process.communicate()[0].decode()[-3000:]
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            assert client.xlen(out_stream) < RECORDS  # killed mid-stream, not after the end
        process = _consumer(champion, source, sink, mloop_home)
        output = process.communicate(timeout=180)[0].decode()
        assert process.returncode == 0, output[-3000:]

        published = [orjson.loads(f[b"data"]) for _, f in client.xrange(out_stream)]
        ids = [doc["id"] for doc in published]
        assert len(ids) == RECORDS and set(ids) == {r["request_id"] for r in records}
        logged = read_predictions("delays")
        assert len(logged) == RECORDS
        assert set(logged["request_id"]) == set(ids)
    finally:
        client.delete(out_stream)
        for key in client.scan_iter(f"mloop:published:{out_stream}:*", count=1000):
            client.delete(key)
        client.close()


@pytest.mark.parametrize("scheme", ["redis", "amqp", "nats"])
def test_a_cut_broker_connection_is_reconnected_and_nothing_is_lost(
    scheme: str, champion: str, flights
) -> None:
    """The connection to the broker drops for 3 s mid-stream (through a proxy the test cuts)."""
    require(scheme)
    from mloop.streams import StreamRunner
    from tests.streams.conftest import consume
    from tests.streams.proxy import Proxy

    port = {"redis": 6379, "amqp": 5672, "nats": 4222}[scheme]
    proxy = Proxy(port)
    name, out = fresh("in"), fresh("out")
    direct = url_for(scheme, name)
    via_proxy = direct.replace(f":{port}", f":{proxy.port}")
    if scheme == "nats":  # JetStream redelivers what was in flight after ack_wait
        via_proxy += "&ack_wait=2"
    sink = url_for(scheme, out)
    rows = flights.test.head(100).to_dict(orient="records")
    records = [{"request_id": f"c{i}", **rows[i % 100]} for i in range(600)]

    async def scenario() -> tuple[object, list[bytes]]:
        runner = StreamRunner(champion, via_proxy, sink, idle_seconds=6.0, batch=10)
        task = asyncio.create_task(runner.run())
        await publish(direct, [orjson.dumps(r) for r in records[:300]])
        while runner.metrics.scored < 100:
            await asyncio.sleep(0.05)
        proxy.cut()
        await publish(direct, [orjson.dumps(r) for r in records[300:]])
        await asyncio.sleep(3)
        proxy.restore()
        metrics = await task
        return metrics, await consume(sink, 700, timeout=5)

    try:
        metrics, outputs = asyncio.run(scenario())
    finally:
        proxy.close()
    ids = [orjson.loads(o)["id"] for o in outputs]
    assert sorted(set(ids)) == sorted(r["request_id"] for r in records)
    assert len(ids) == len(set(ids))  # no output twice
    logged = read_predictions("delays")
    assert len(logged) == 600 and logged["request_id"].nunique() == 600
    assert metrics.scored + metrics.duplicates >= 600
