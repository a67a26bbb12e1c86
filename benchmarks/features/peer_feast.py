"""Feast's half of the feature-store benchmark (runs in benchmarks/.venv-feast).

    python peer_feast.py FEATURES.parquet ENTITIES.parquet WORKDIR [--offline-store duckdb]

``--offline-store``: ``file`` (Feast's default local offline store: pandas and Dask over the
Parquet files) or ``duckdb`` (Feast's DuckDB offline store, through Ibis; ``feast[duckdb]``).

Prints one JSON object: seconds of ``get_historical_features(...).to_df()`` (median of
``--repeat`` runs), the result's shape and this process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.repo_config import RepoConfig
from feast.types import Float64

FEATURES = [f"f{i}" for i in range(10)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("features")
    parser.add_argument("entities")
    parser.add_argument("workdir")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--offline-store", choices=["file", "duckdb"], default="file")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    config = RepoConfig(
        project="bench",
        provider="local",
        registry=str(work / "registry.db"),
        online_store={"type": "sqlite", "path": str(work / "online.db")},
        offline_store={"type": args.offline_store},
        entity_key_serialization_version=3,
        repo_path=str(work),
    )
    store = FeatureStore(config=config)
    entity = Entity(name="entity", join_keys=["entity_id"], value_type=ValueType.INT64)
    view = FeatureView(
        name="bench",
        entities=[entity],
        ttl=timedelta(days=365),
        schema=[Field(name=f, dtype=Float64) for f in FEATURES],
        source=FileSource(path=str(Path(args.features).resolve()), timestamp_field="event_ts"),
    )
    store.apply([entity, view])
    lookups = pd.read_parquet(args.entities)
    lookups = lookups.rename(columns={"event_ts": "event_timestamp"})
    lookups["event_timestamp"] = lookups["event_timestamp"].dt.tz_localize("UTC")
    times, cpu, shape = [], [], None
    for _ in range(args.repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = store.get_historical_features(
            entity_df=lookups, features=[f"bench:{f}" for f in FEATURES]
        ).to_df()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        shape = list(result.shape)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "offline_store": args.offline_store,
                "seconds": statistics.median(times),
                "cpu_seconds": statistics.median(cpu),
                "load": os.getloadavg()[0],
                "runs": times,
                "shape": shape,
                "peak_bytes": peak,
                "non_null": int(result[FEATURES[0]].notna().sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
