"""Naive reference implementations: what a point-in-time join and the transformations mean.

Plain Python loops over rows, written for clarity, never for speed. The property tests
compare the feature store with these on random data.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Row:
    key: tuple[Any, ...]
    ts: datetime | None  # aware or naive, compared as given
    created: Any  # tie-breaker: the created timestamp, or the row's position in the source
    values: dict[str, Any]


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def point_in_time(
    entity_rows: Sequence[tuple[tuple[Any, ...], datetime | None]],
    rows: Sequence[Row],
    features: Sequence[str],
    ttl: timedelta | None,
) -> list[dict[str, Any]]:
    """For each entity (key, t): the latest row with ts <= t (ties: greatest created), within ttl."""
    out = []
    for key, at in entity_rows:
        best: Row | None = None
        if at is not None and not any(missing(k) for k in key):
            for row in rows:
                if row.key != key or row.ts is None or row.ts > at:
                    continue
                if best is None or (row.ts, row.created) > (best.ts, best.created):
                    best = row
        if best is not None and ttl is not None and best.ts is not None and best.ts < at - ttl:  # type: ignore[operator]
            best = None
        out.append({f: None if best is None else best.values.get(f) for f in features})
    return out


def window(rows: Sequence[Row], row: Row, column: str | None, agg: str, width: timedelta) -> Any:
    """``agg`` over the entity's rows with ``row.ts - width <= ts < row.ts`` (nulls ignored)."""
    assert row.ts is not None
    inside = [
        r for r in rows if r.key == row.key and r.ts is not None and row.ts - width <= r.ts < row.ts
    ]
    if column is None:
        return len(inside)
    values = [r.values[column] for r in inside if not missing(r.values[column])]
    if agg == "count":
        return len(values)
    if agg == "sum":
        return sum(values) if values else 0
    if not values:
        return None
    if agg == "mean":
        return statistics.fmean(values)
    if agg == "min":
        return min(values)
    if agg == "max":
        return max(values)
    if agg == "std":
        return statistics.stdev(values) if len(values) > 1 else None
    raise AssertionError(agg)


def lag_events(rows: Sequence[Row], row: Row, column: str, n: int) -> Any:
    """The value ``n`` rows earlier among the entity's rows ordered by (ts, created)."""
    same = sorted(
        (r for r in rows if r.key == row.key and r.ts is not None), key=lambda r: (r.ts, r.created)
    )
    position = same.index(row)
    return same[position - n].values[column] if position >= n else None


def lag_as_of(rows: Sequence[Row], row: Row, column: str, by: timedelta) -> Any:
    """The value of the entity's latest row at or before ``row.ts - by``."""
    assert row.ts is not None
    [found] = point_in_time([(row.key, row.ts - by)], rows, [column], None)
    return found[column]
