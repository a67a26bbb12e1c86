"""Synthetic data of the feature-store benchmark, written once as Parquet.

A feature table of ``entities x timestamps`` rows (10 float features, one event per entity
every hour) and an entity frame of ``rows`` lookups at random times over the same span.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START = np.datetime64("2024-01-01T00:00:00", "us")
FEATURES = [f"f{i}" for i in range(10)]


def write(
    folder: Path, entities: int, timestamps: int, rows: int, seed: int = 0
) -> tuple[Path, Path]:
    """Write ``features.parquet`` and ``entities.parquet`` under ``folder`` (kept when present)."""
    folder.mkdir(parents=True, exist_ok=True)
    features = folder / f"features_{entities}x{timestamps}.parquet"
    lookups = folder / f"entities_{rows}_{entities}x{timestamps}.parquet"
    rng = np.random.default_rng(seed)
    hour = np.timedelta64(3600 * 1_000_000, "us")
    if not features.exists():
        writer = None
        chunk = max(1, 1_000_000 // entities)
        for first in range(0, timestamps, chunk):
            steps = np.arange(first, min(timestamps, first + chunk))
            ids = np.tile(np.arange(entities, dtype=np.int64), len(steps))
            ts = START + np.repeat(steps, entities) * hour
            jitter = rng.integers(0, 3600 * 1_000_000, len(ids)).astype("timedelta64[us]")
            columns = {"entity_id": ids, "event_ts": ts + jitter}
            for name in FEATURES:
                columns[name] = rng.standard_normal(len(ids))
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(features, table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
    if not lookups.exists():
        span = timestamps * 3600 * 1_000_000
        table = pa.table(
            {
                "entity_id": rng.integers(0, entities, rows, dtype=np.int64),
                "event_ts": START + rng.integers(0, span, rows).astype("timedelta64[us]"),
                "label": rng.integers(0, 2, rows),
            }
        )
        pq.write_table(table, lookups)
    return features, lookups
