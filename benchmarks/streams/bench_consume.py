"""Raw consume rate of each broker's Python client, and the full stream path on top of it.

    python benchmarks/streams/bench_consume.py --messages 200000

1. raw: publish N transaction-sized JSON messages (about 150 bytes), then consume them
   with mloop's source of that broker (batches of 1,000, acknowledged per batch; MQTT at
   QoS 0, consumed while published, as a QoS 0 subscriber must be);
2. full path: ``mloop.streams.run`` of a registered scikit-learn model on the same
   kind of messages (consume → ingestion checks of a data Suite → validate → score →
   publish one output each → prediction log → ledger → ack), on RabbitMQ, NATS
   JetStream and Redis Streams. No online-store enrichment (see BENCHMARKS.md).

Writes benchmarks/results/streams_consume.json (not with --smoke).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import orjson
from peer_env import save

BROKERS = ("redis", "nats", "amqp", "mqtt")


def url(scheme: str, name: str, **options: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in options.items())
    if scheme == "amqp":
        return f"amqp://guest:guest@127.0.0.1:5672/%2f?queue={name}{extra}"
    if scheme == "nats":
        return f"nats://127.0.0.1:4222?subject={name}&stream={name.upper()}{extra}"
    if scheme == "mqtt":
        return f"mqtt://127.0.0.1:1883?topic={name}{extra}"
    return f"redis://127.0.0.1:6379/0?stream={name}{extra}"


def transactions(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Card transactions: id, account, time, amount, merchant, country, hour."""
    rng = np.random.default_rng(seed)
    amounts = np.round(rng.gamma(2.0, 40.0, n), 2)
    accounts = rng.integers(0, 20_000, n)
    hours = rng.integers(0, 24, n)
    return [
        {
            "request_id": f"tx-{i:09d}",
            "account": f"acct-{accounts[i]:06d}",
            "ts": f"2026-03-01T{hours[i]:02d}:{i % 60:02d}:00Z",
            "amount": float(amounts[i]),
            "merchant": f"m-{i % 997:04d}",
            "country": "FR",
            "hour": int(hours[i]),
        }
        for i in range(n)
    ]


async def fill(scheme: str, name: str, bodies: list[bytes]) -> None:
    """Publish quickly with the plain client (setup, not measured)."""
    if scheme == "redis":
        import redis.asyncio

        client = redis.asyncio.Redis()
        for start in range(0, len(bodies), 5_000):
            pipe = client.pipeline(transaction=False)
            for body in bodies[start : start + 5_000]:
                pipe.xadd(name, {"data": body})
            await pipe.execute()
        await client.aclose()
        return
    from mloop.streams import brokers

    sink = brokers.sink(url(scheme, name))
    await sink.open()
    for start in range(0, len(bodies), 2_000):
        part = bodies[start : start + 2_000]
        await sink.publish([(f"k{start + i}", b) for i, b in enumerate(part)])
    await sink.close()


async def consume_rate(scheme: str, bodies: list[bytes]) -> dict[str, Any]:
    from mloop.streams import brokers

    name = f"bench_{uuid.uuid4().hex[:8]}"
    source = brokers.source(url(scheme, name, **({"qos": "0"} if scheme == "mqtt" else {})))
    if scheme == "mqtt":  # QoS 0 reaches only a connected subscriber: consume while published
        await source.open()
        thread = threading.Thread(target=_mqtt_publish, args=(name, bodies))
        thread.start()
    else:
        await fill(scheme, name, bodies)
        await source.open()
    started = time.perf_counter()
    got = 0
    first = None
    idle = 0
    while got < len(bodies) and idle < 10:
        batch = await source.fetch(1_000, 0.5)
        if not batch:
            idle += 1
            continue
        idle = 0
        first = first or time.perf_counter()
        await source.ack(batch)
        got += len(batch)
    seconds = time.perf_counter() - (first if scheme == "mqtt" and first else started)
    await source.close()
    if scheme == "mqtt":
        thread.join()
    return {
        "messages": len(bodies),
        "received": got,
        "seconds": round(seconds, 3),
        "per_second": round(got / seconds),
    }


def _mqtt_publish(topic: str, bodies: list[bytes]) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    for body in bodies:
        client.publish(topic, body, qos=0)
    time.sleep(1)
    client.loop_stop()
    client.disconnect()


def register_model() -> str:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import mloop
    from mloop.registry import set_alias

    rng = np.random.default_rng(1)
    train = pd.DataFrame(
        {"amount": rng.gamma(2.0, 40.0, 5_000), "hour": rng.integers(0, 24, 5_000)}
    )
    label = ((train["amount"] > 150) | (train["hour"] < 5)).astype(int)
    with mloop.start_run():
        info = mloop.log_model(
            LogisticRegression().fit(train, label),
            "model",
            registered_model_name="fraud",
            input_example=train.head(3),
        )
    set_alias("fraud", "champion", info.registered_model_version.version)
    return "models:/fraud@champion"


async def full_path(scheme: str, model: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    from mloop.streams import StreamRunner

    name = f"bench_{uuid.uuid4().hex[:8]}"
    bodies = [
        orjson.dumps({"request_id": r["request_id"], "amount": r["amount"], "hour": r["hour"]})
        for r in records
    ]
    await fill(scheme, name, bodies)
    from mloop.data import Suite, checks

    suite = Suite("bench-tx", [checks.between("amount", 0, 100_000), checks.between("hour", 0, 23)])
    runner = StreamRunner(
        model,
        url(scheme, name),
        url(scheme, name + "_out"),
        max_records=len(records),
        batch=1_000,
        suite=suite,
    )
    await runner.service.start()
    started = time.perf_counter()
    metrics = await runner.run()
    seconds = time.perf_counter() - started
    return {
        "records": len(records),
        "scored": metrics.scored,
        "seconds": round(seconds, 3),
        "per_second": round(metrics.scored / seconds),
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    records = transactions(args.messages)
    bodies = [orjson.dumps(r) for r in records]
    figures: dict[str, Any] = {"message_bytes": round(float(np.mean([len(b) for b in bodies])))}
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)  # a shared machine skews rates
    raw = {}
    for scheme in args.brokers:
        n = min(args.messages, args.amqp_messages) if scheme == "amqp" else args.messages
        raw[scheme] = asyncio.run(consume_rate(scheme, bodies[:n]))
        print(f"raw consume {scheme:6s} {raw[scheme]}", flush=True)
    figures["raw_consume"] = raw
    home = tempfile.mkdtemp(prefix="mloop-bench-streams-")
    os.environ["MLOOP_HOME"] = home
    os.chdir(home)
    model = register_model()
    full = {}
    for scheme in [s for s in args.brokers if s != "mqtt"]:
        n = min(args.full_records, args.amqp_messages) if scheme == "amqp" else args.full_records
        full[scheme] = asyncio.run(full_path(scheme, model, records[:n]))
        full[scheme]["share_of_raw"] = round(
            full[scheme]["per_second"] / raw[scheme]["per_second"], 3
        )
        print(f"full path   {scheme:6s} {full[scheme]}", flush=True)
    figures["full_path"] = full
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--amqp-messages",
        type=int,
        default=50_000,
        help="RabbitMQ is filled at ~2k/s with confirms: fewer messages",
    )
    parser.add_argument("--full-records", type=int, default=50_000)
    parser.add_argument("--brokers", nargs="+", default=list(BROKERS))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; results not saved")
    args = parser.parse_args(argv)
    if args.smoke:
        args.messages, args.amqp_messages, args.full_records = 300, 300, 200
    figures = bench(args)
    if not args.smoke:
        print(save("streams_consume", figures))


if __name__ == "__main__":
    main()
