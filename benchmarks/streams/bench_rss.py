"""Memory of a stream runner at its maximum rate: RSS after warm-up against RSS at the end.

    python benchmarks/streams/bench_rss.py --minutes 10

A producer process keeps a Redis stream ahead of the consumer (it pauses while the
consumer group lags by more than ``--backlog`` messages, so the broker's memory stays
bounded too); the runner scores every record with a registered model (suite checks,
prediction log, ledger, one output per record) and a ``StreamQuality`` window, as fast as
it can. The runner's RSS is sampled every 5 s; growth is measured from the end of the
warm-up (``--warmup`` seconds) to the end of the run.

Writes benchmarks/results/streams_rss.json (not with --smoke).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson
from bench_consume import register_model, transactions, url
from peer_env import save


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def produce(name: str, seconds: float, backlog: int) -> None:
    """Publish transactions until ``seconds`` pass, never more than ``backlog`` ahead."""
    import redis

    client = redis.Redis()
    bodies = [
        orjson.dumps({"amount": r["amount"], "hour": r["hour"]})
        for r in transactions(20_000, seed=7)
    ]
    end = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < end:
        groups = client.xinfo_groups(name) if client.exists(name) else []
        lag = int(groups[0].get("lag") or 0) if groups else sent
        if lag > backlog:
            time.sleep(0.1)
            continue
        pipe = client.pipeline(transaction=False)
        for i in range(2_000):
            body = orjson.loads(bodies[(sent + i) % len(bodies)])
            body["request_id"] = f"tx-{sent + i}"
            pipe.xadd(name, {"data": orjson.dumps(body)}, maxlen=backlog * 4, approximate=True)
        pipe.xtrim(name + "_out", maxlen=backlog * 4, approximate=True)  # Redis stays bounded
        pipe.execute()
        sent += 2_000
    client.close()


async def consume(name: str, model: str, seconds: float, warmup: float) -> dict[str, Any]:
    from mloop import data
    from mloop.data import checks
    from mloop.streams import StreamQuality, StreamRunner

    suite = data.Suite("rss-tx", [checks.between("amount", 0, 100_000)])
    reference = [{"amount": r["amount"], "hour": r["hour"]} for r in transactions(2_000, 3)]
    import pandas as pd

    detector = data.RobustDetector(features=["amount", "hour"]).fit(pd.DataFrame(reference))
    quality = StreamQuality("rss-tx", detector=detector, window=5_000, max_anomaly_rate=0.5)
    runner = StreamRunner(
        model,
        url("redis", name, group="rss"),
        url("redis", name + "_out", dedup_ttl="60"),
        batch=1_000,
        suite=suite,
        quality=quality,
        idle_seconds=30,
    )
    samples: list[tuple[float, float, int]] = []
    started = time.monotonic()

    async def sample() -> None:
        while True:
            samples.append(
                (round(time.monotonic() - started, 1), round(rss_mb(), 1), runner.handled)
            )
            if time.monotonic() - started >= seconds:
                runner.stop()
                return
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample())
    metrics = await runner.run()
    sampler.cancel()
    after_warmup = next(s for s in samples if s[0] >= warmup)
    last = samples[-1]
    records = last[2] - after_warmup[2]
    return {
        "seconds": seconds,
        "warmup_seconds": warmup,
        "records": metrics.scored,
        "dead_letters": dict(metrics.dead_letters),
        "records_per_second_after_warmup": round(records / max(last[0] - after_warmup[0], 1e-9)),
        "rss_mb_after_warmup": after_warmup[1],
        "rss_mb_end": last[1],
        "rss_mb_max": max(s[1] for s in samples),
        "growth_after_warmup": round(last[1] / after_warmup[1] - 1, 4),
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds")
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--smoke", action="store_true", help="a few seconds; not saved")
    args = parser.parse_args(argv)
    seconds = 8.0 if args.smoke else args.minutes * 60
    warmup = 2.0 if args.smoke else args.warmup
    home = tempfile.mkdtemp(prefix="mloop-bench-rss-")
    os.environ["MLOOP_HOME"] = home
    os.chdir(home)
    model = register_model()
    name = f"bench_rss_{uuid.uuid4().hex[:8]}"
    producer = multiprocessing.get_context("spawn").Process(
        target=produce, args=(name, seconds + 5, args.backlog)
    )
    producer.start()
    try:
        figures = asyncio.run(consume(name, model, seconds, warmup))
    finally:
        producer.terminate()
        producer.join()
        import redis

        client = redis.Redis()
        client.delete(name, name + "_out", name + ".dead")
        client.close()
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)
    print({k: v for k, v in figures.items() if k != "samples"}, flush=True)
    if not args.smoke:
        print(save("streams_rss", figures))


if __name__ == "__main__":
    main()
