"""The drift benchmark's data: a reference and a current table, 20 numeric + 5 categorical.

Numeric columns mix shapes (normal, log-normal, exponential, uniform, integer counts, a
column with many ties and 2 % nulls); categorical ones have 3, 10, 50, 200 and 1,000
values. The current table shifts a quarter of the columns (a mean shift, a scale change,
a new category mix), so both drifted and quiet columns are measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

NUMERIC = [f"n{i}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
CARDINALITIES = (3, 10, 50, 200, 1_000)


def make(rows: int, seed: int, drifted: bool) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        shift = 0.3 if drifted and i % 4 == 0 else 0.0
        shape = i % 5
        if shape == 0:
            values = rng.normal(10.0 + shift * 2, 2.0, rows)
        elif shape == 1:
            values = rng.lognormal(1.0 + shift, 0.5, rows)
        elif shape == 2:
            values = rng.exponential(3.0 * (1 + shift), rows)
        elif shape == 3:
            values = rng.uniform(0.0, 100.0 + 100 * shift, rows)
        else:
            values = rng.poisson(4.0 + 4 * shift, rows).astype(np.float64)
        if i == 19:
            values[rng.random(rows) < 0.02] = np.nan
        columns[name] = values
    for i, (name, distinct) in enumerate(zip(CATEGORICAL, CARDINALITIES, strict=True)):
        weights = np.arange(1, distinct + 1, dtype=np.float64) ** (-0.8)
        if drifted and i % 2 == 0:
            weights = weights[::-1]
        labels = np.array([f"v{k}" for k in range(distinct)])
        picks = rng.choice(distinct, rows, p=weights / weights.sum())
        columns[name] = pd.array(labels[picks], dtype="str")
    return pd.DataFrame(columns)


def write(folder: Path, rows: int) -> tuple[Path, Path]:
    """``reference_<rows>.parquet`` and ``current_<rows>.parquet`` under ``folder`` (kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"reference_{rows}.parquet", folder / f"current_{rows}.parquet"
    for path, seed, drifted in ((paths[0], 0, False), (paths[1], 1, True)):
        if not path.exists():
            make(rows, seed, drifted).to_parquet(path, index=False)
    return paths
