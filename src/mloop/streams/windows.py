"""Window aggregates of a FeatureView computed on a stream, equal to the offline feature rows.

The view's ``window_agg`` transforms (count, sum, mean, std, min, max per entity over
``[event time - window, event time)``) are computed per micro-batch, vectorised: the
retained events and the batch are sorted by (entity, event time) once; count, sum, mean
and std are differences of prefix sums between two binary-searched bounds, min and max
two lookups in a sparse table (range-minimum query) over the same sorted rows.

Event time and lateness (docs/decisions/0162-streams-windows.md):

- the **watermark** is the greatest event time seen minus ``allowed_lateness``;
- an event at or after the watermark is accepted even out of order: it counts in the
  windows of later events, and the entity's latest row (what goes online) is recomputed
  from every event retained, so online values equal the offline rows;
- an event before the watermark is **late**: it is returned in ``WindowUpdate.late``
  (for the caller to dead-letter, reason ``late``) and not counted online; an offline
  recomputation includes it;
- an event's own row (``WindowUpdate.rows``) sees every event of its entity received
  until the end of its micro-batch;
- events older than ``watermark - window`` can no longer be in any future window and are
  forgotten, so memory is bounded by the events of one window plus the lateness.

>>> windows = WindowAggregator(transactions_view, allowed_lateness="1m", id_column="request_id")
>>> update = windows.update(batch_df)
>>> update.latest      # one row per entity touched: what the online store serves
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.features import FeatureView
from mloop.features.duration import to_micros
from mloop.features.transforms import WindowAgg

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

STREAMED = ("count", "sum", "mean", "std", "min", "max")


@dataclass
class WindowUpdate:
    """What one micro-batch produced."""

    rows: pd.DataFrame  # one row per accepted event: keys, event time, features
    latest: pd.DataFrame  # one row per entity of the batch: its latest feature row
    late: pd.DataFrame  # events before the watermark (not counted)
    duplicates: int  # events whose id was seen already (not counted twice)
    watermark: pd.Timestamp | None


class WindowAggregator:
    """Streaming state of one feature view's window aggregates (see the module docstring)."""

    def __init__(
        self,
        view: FeatureView,
        allowed_lateness: str | timedelta = "1m",
        id_column: str | None = None,
    ) -> None:
        if not isinstance(view, FeatureView) or not view.timestamp:
            raise InvalidInput(
                f"{view!r} must be a FeatureView with a timestamp to aggregate over event time."
            )
        self.view = view
        self.keys = list(view.entity.join_keys)
        self.timestamp = view.timestamp
        self.aggs: list[WindowAgg] = []
        for transform in view.transforms:
            if not isinstance(transform, WindowAgg) or transform.agg not in STREAMED:
                raise InvalidInput(
                    f"feature view {view.name!r}: {transform.name!r} cannot be computed on a "
                    f"stream yet; streams compute window_agg with {', '.join(STREAMED)}."
                )
            self.aggs.append(transform)
        if not self.aggs:
            raise InvalidInput(f"feature view {view.name!r} has no window_agg to stream.")
        zero = allowed_lateness in (0, "0", "0s") or allowed_lateness == timedelta(0)
        lateness = 0 if zero else to_micros(allowed_lateness, "allowed_lateness")
        assert lateness is not None
        self.lateness_us = lateness
        self.id_column = id_column
        self.columns = list(dict.fromkeys(a.column for a in self.aggs if a.column))
        self._known: Any = ()  # the entities seen, as a pandas Index: position = code
        self._key_values: dict[str, Any] = {k: _objects() for k in self.keys}
        self._max_ts: int | None = None
        self._state = _empty(self.columns)
        self._ids: set[Any] = set()

    @property
    def watermark_us(self) -> int | None:
        return None if self._max_ts is None else self._max_ts - self.lateness_us

    @property
    def retained(self) -> int:
        """Events held in memory (those that may still fall into a window)."""
        return len(self._state["ts"])

    def update(self, events: pd.DataFrame) -> WindowUpdate:
        """Add a micro-batch of events (a DataFrame with the keys, the timestamp, the columns)."""
        import numpy as np
        import pandas as pd

        missing = [c for c in [*self.keys, self.timestamp, *self.columns] if c not in events]
        if missing:
            raise InvalidInput(
                f"events for feature view {self.view.name!r} lack the column(s) {missing}."
            )
        events = events.reset_index(drop=True)
        stamps = pd.to_datetime(events[self.timestamp], utc=True)
        ts = micros(stamps)
        keep = stamps.notna().to_numpy() & events[self.keys].notna().all(axis=1).to_numpy()
        duplicates = 0
        if self.id_column is not None:  # a redelivered event: seen before, or twice here
            ids = events[self.id_column].to_numpy()
            seen = np.fromiter((i in self._ids for i in ids), bool, len(ids))
            repeated = keep & (seen | pd.Series(ids).duplicated().to_numpy())
            duplicates = int(repeated.sum())
            keep &= ~repeated
        watermark = self.watermark_us
        late = keep & (ts < watermark) if watermark is not None else np.zeros(len(ts), bool)
        keep &= ~late
        batch = events[keep].reset_index(drop=True)
        batch_ts = ts[keep]
        codes = self._encode(batch)
        new: dict[str, Any] = {"code": codes, "ts": batch_ts}
        for column in self.columns:
            new[column] = pd.to_numeric(batch[column], errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
        new["id"] = (
            batch[self.id_column].to_numpy(dtype=object)
            if self.id_column is not None
            else np.full(len(batch_ts), None, dtype=object)
        )
        rows, latest = self._compute(new)
        if self.id_column is not None:
            self._ids.update(new["id"].tolist())
        if len(batch_ts):
            top = int(batch_ts.max())
            self._max_ts = top if self._max_ts is None else max(self._max_ts, top)
        self._evict()
        mark = self.watermark_us
        return WindowUpdate(
            rows=rows,
            latest=latest,
            late=events[late].reset_index(drop=True),
            duplicates=duplicates,
            watermark=None if mark is None else pd.Timestamp(mark, unit="us", tz="UTC"),
        )

    # -- internals -----------------------------------------------------------------------

    def _encode(self, batch: pd.DataFrame) -> np.ndarray:
        """An integer per entity, stable across batches (a hash lookup, no Python loop)."""
        import numpy as np
        import pandas as pd

        if batch.empty:
            return np.zeros(0, dtype="int64")
        if len(self.keys) == 1:
            values: pd.Index = pd.Index(batch[self.keys[0]].to_numpy(dtype=object))
        else:
            values = pd.MultiIndex.from_frame(batch[self.keys])
        codes = self._known.get_indexer(values) if len(self._known) else np.full(len(values), -1)
        unknown = codes < 0
        if unknown.any():
            fresh = values[unknown].unique()
            self._known = fresh if not len(self._known) else self._known.append(fresh)
            for i, key in enumerate(self.keys):
                column = fresh.get_level_values(i) if len(self.keys) > 1 else fresh
                self._key_values[key] = np.concatenate(
                    [self._key_values[key], np.asarray(column, dtype=object)]
                )
            codes = self._known.get_indexer(values)
        return np.asarray(codes, dtype="int64")

    def _compute(self, new: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
        import numpy as np

        state = self._state
        n_old = len(state["ts"])
        merged = {k: np.concatenate([state[k], new[k]]) for k in state}
        merged["batch"] = np.concatenate(
            [np.full(n_old, -1, dtype="int64"), np.arange(len(new["ts"]), dtype="int64")]
        )
        order = np.lexsort((merged["batch"], merged["ts"], merged["code"]))
        sorted_ = {k: v[order] for k, v in merged.items()}
        code, ts = sorted_["code"], sorted_["ts"]
        windows = sorted({a.micros for a in self.aggs})
        bounds = {w: self._bounds(code, ts, w) for w in windows}
        prefix = {column: _prefix(sorted_[column]) for column in self.columns}
        extremes = {
            (a.column, a.agg): _SparseTable(sorted_[a.column], a.agg)
            for a in self.aggs
            if a.agg in ("min", "max") and a.column is not None
        }
        # rows of the batch, in the batch's order; the last row of each entity of the batch
        in_batch = np.flatnonzero(sorted_["batch"] >= 0)
        in_batch = in_batch[np.argsort(sorted_["batch"][in_batch], kind="stable")]
        last = np.flatnonzero(np.r_[code[1:] != code[:-1], True])
        touched = np.isin(code[last], np.unique(code[in_batch]))
        last = last[touched]
        self._state = {k: sorted_[k] for k in state}
        return (
            self._frame(sorted_, in_batch, bounds, prefix, extremes),
            self._frame(sorted_, last, bounds, prefix, extremes),
        )

    @staticmethod
    def _bounds(code: np.ndarray, ts: np.ndarray, micros: int) -> tuple[np.ndarray, np.ndarray]:
        """For each row, the first row of ``[ts - window, ts)`` and the first at ``ts`` (same entity)."""
        import numpy as np

        if not len(ts):
            return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
        low = int(ts.min()) - micros
        span = int(ts.max()) - low + 1
        if int(code.max()) < (1 << 62) // span:  # (entity, time) fits one int64: no ranking
            key = code * span + (ts - low)
            lower = key - micros
        else:  # ranks of the times (and of the window starts) instead of the times
            values = np.unique(np.concatenate([ts, ts - micros]))
            span = len(values) + 1
            key = code * span + np.searchsorted(values, ts)
            lower = code * span + np.searchsorted(values, ts - micros)
        return np.searchsorted(key, lower, "left"), np.searchsorted(key, key, "left")

    def _frame(
        self,
        rows: dict[str, np.ndarray],
        at: np.ndarray,
        bounds: dict[int, tuple[np.ndarray, np.ndarray]],
        prefix: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
        extremes: dict[tuple[str, str], _SparseTable],
    ) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        codes = rows["code"][at]
        data: dict[str, Any] = {key: self._key_values[key][codes] for key in self.keys}
        data[self.timestamp] = pd.to_datetime(rows["ts"][at], unit="us", utc=True)
        for agg in self.aggs:
            start, end = bounds[agg.micros]
            s, e = start[at], end[at]
            if agg.column is None:
                data[agg.name] = (e - s).astype("int64")
                continue
            n_pre, x_pre, xx_pre = prefix[agg.column]
            n = n_pre[e] - n_pre[s]
            total = x_pre[e] - x_pre[s]
            if agg.agg in ("min", "max"):
                data[agg.name] = extremes[(agg.column, agg.agg)].query(s, e)
            elif agg.agg == "count":
                data[agg.name] = n.astype("int64")
            elif agg.agg == "sum":
                data[agg.name] = total
            elif agg.agg == "mean":
                with np.errstate(invalid="ignore", divide="ignore"):
                    data[agg.name] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
            else:  # std (sample)
                squares = xx_pre[e] - xx_pre[s]
                with np.errstate(invalid="ignore", divide="ignore"):
                    var = (squares - total * total / np.maximum(n, 1)) / np.maximum(n - 1, 1)
                data[agg.name] = np.where(n > 1, np.sqrt(np.maximum(var, 0.0)), np.nan)
        return pd.DataFrame(data)

    def _evict(self) -> None:
        """Forget events that no future window can reach (older than watermark - window)."""
        mark = self.watermark_us
        if mark is None:
            return
        horizon = mark - max(a.micros for a in self.aggs)
        keep = self._state["ts"] >= horizon
        if keep.all():
            return
        self._state = {k: v[keep] for k, v in self._state.items()}
        if self.id_column is not None:
            self._ids = set(self._state["id"].tolist())


def micros(stamps: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 microseconds since the epoch (NaT: the int64 minimum)."""
    naive = stamps.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return naive.to_numpy().view("int64")


def _objects() -> np.ndarray:
    import numpy as np

    return np.zeros(0, dtype=object)


def _empty(columns: list[str]) -> dict[str, Any]:
    import numpy as np

    state: dict[str, Any] = {
        "code": np.zeros(0, dtype="int64"),
        "ts": np.zeros(0, dtype="int64"),
        "id": np.zeros(0, dtype=object),
    }
    for column in columns:
        state[column] = np.zeros(0, dtype="float64")
    return state


class _SparseTable:
    """Range min (or max) of ``values[s:e]`` for many ranges at once, nulls ignored.

    Level ``j`` holds the extreme of every run of ``2**j`` values, so a range is covered by
    two overlapping runs: ``O(n log n)`` to build (numpy passes), ``O(1)`` per query.
    An empty range, or one of nulls only, gives NaN (as the offline aggregate does).
    """

    def __init__(self, values: np.ndarray, agg: str) -> None:
        import numpy as np

        self.pick = np.fmin if agg == "min" else np.fmax  # fmin/fmax skip NaN
        self.levels = [values]
        width = 1
        while 2 * width <= len(values):
            previous = self.levels[-1]
            self.levels.append(self.pick(previous[:-width], previous[width:]))
            width *= 2

    def query(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        import numpy as np

        length = end - start
        out = np.full(len(start), np.nan)
        some = length > 0
        if not some.any():
            return out
        s, n = start[some], length[some]
        level = np.floor(np.log2(n)).astype("int64")
        found = np.empty(len(s))
        for j in np.unique(level).tolist():
            rows = level == j
            table = self.levels[j]
            found[rows] = self.pick(table[s[rows]], table[s[rows] + n[rows] - (1 << j)])
        out[some] = found
        return out


def _prefix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prefix counts, sums and sums of squares of the non-null values (a leading 0)."""
    import numpy as np

    valid = ~np.isnan(values)
    clean = np.where(valid, values, 0.0)
    zero = np.zeros(1)
    return (
        np.concatenate([zero, np.cumsum(valid)]),
        np.concatenate([zero, np.cumsum(clean)]),
        np.concatenate([zero, np.cumsum(clean * clean)]),
    )
