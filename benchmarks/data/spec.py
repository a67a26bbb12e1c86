"""The data and the checks of the data-check benchmark, shared by mloop's and the peers' halves.

Plain numpy/pandas only: the peers import this file from their own virtual environments.
1,000,000 rows x 20 columns (an id, 14 floats, 3 integers, 2 texts) and 10 checks:
not-null on 5 columns, a range on 3, an allowed set on 1, uniqueness on 1. The data holds
real failures of each kind, so every tool has failing rows to find and report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NOT_NULL = ["f0", "f1", "f2", "f3", "f4"]
RANGES = {"f5": (20.0, 80.0), "f6": (20.0, 80.0), "i0": (0, 95)}
IN_SET = ("cat", ["a", "b", "c", "d"])
UNIQUE = "id"


def make(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {"id": rng.permutation(rows).astype(np.int64)}
    duplicated = rng.choice(rows, max(1, rows // 100_000), replace=False)
    columns["id"][duplicated] = columns["id"][(duplicated + 1) % rows]  # type: ignore[index]
    for i in range(14):
        values = rng.normal(50.0, 10.0, rows)
        if i < 5:
            values[rng.random(rows) < 0.001] = np.nan
        columns[f"f{i}"] = values
    for i in range(3):
        columns[f"i{i}"] = rng.integers(0, 100, rows)
    columns["cat"] = rng.choice(
        np.array(["a", "b", "c", "d", "e"]), rows, p=[0.3, 0.3, 0.2, 0.1999, 0.0001]
    )
    columns["txt"] = rng.choice(np.array([f"x{k}" for k in range(1000)]), rows)
    return pd.DataFrame(columns)


def expected_failures(frame: pd.DataFrame) -> dict[str, int]:
    """Failing rows per check, computed the plain way (the reference every tool must match)."""
    failures = {f"not_null({c})": int(frame[c].isna().sum()) for c in NOT_NULL}
    for column, (low, high) in RANGES.items():
        values = frame[column]
        failures[f"between({column})"] = int(((values < low) | (values > high)).sum())
    column, allowed = IN_SET
    failures[f"in_set({column})"] = int(
        (frame[column].notna() & ~frame[column].isin(allowed)).sum()
    )
    failures[f"unique({UNIQUE})"] = int(frame[UNIQUE].duplicated(keep=False).sum())
    return failures
