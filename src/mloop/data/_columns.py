"""Mergeable summaries of one column: numeric, categorical or other.

A summary is updated batch by batch and merged with another summary of the same column;
the merge of the summaries of two parts is the summary of the whole (exactly for counts,
extremes, moments and histogram counts; within the sketches' stated error for quantiles,
distinct counts and the frequencies of a column with many values).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.data._hll import HyperLogLog
from mloop.data._types import family

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

KLL_K = 200  # normalized rank error about 1.3 % (DataSketches' bound, 99 % confidence)
EXACT_LIMIT = 256  # a categorical column keeps exact counts up to this many distinct values
FREQUENT_LG_K = 10  # frequent-items map of 2**10 slots (768 tracked values) beyond that
_FEED = 768  # values of one batch fed to the frequent-items sketch (its capacity)

NUMERIC_FAMILIES = ("integer", "float", "decimal", "timestamp", "date", "duration")
CATEGORICAL_FAMILIES = ("string", "category", "boolean")


def kind_of(type_name: str) -> str:
    """``numeric``, ``categorical`` or ``other`` for a column type name."""
    kind = family(type_name)
    if kind in NUMERIC_FAMILIES:
        return "numeric"
    if kind in CATEGORICAL_FAMILIES:
        return "categorical"
    return "other"


class ColumnProfile:
    """What every column summary has: its type, and how many values are present or null."""

    kind = "other"

    def __init__(self, dtype: str, count: int = 0, nulls: int = 0) -> None:
        self.dtype = dtype
        self.count = count
        self.nulls = nulls

    @property
    def rows(self) -> int:
        return self.count + self.nulls

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    def update_nulls(self, column: Any, length: int) -> None:
        import pyarrow as pa

        nulls = (
            column.null_count
            if isinstance(column, pa.Array | pa.ChunkedArray)
            else int(column.isna().sum())
        )
        self.nulls += nulls
        self.count += length - nulls

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        return ColumnProfile(self.dtype, self.count + other.count, self.nulls + other.nulls)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "dtype": self.dtype, "count": self.count, "nulls": self.nulls}

    def summary(self) -> dict[str, Any]:
        """A flat, readable description (for tables and reports)."""
        return {"type": self.dtype, "count": self.count, "nulls": self.nulls}


class NumericProfile(ColumnProfile):
    """Count, nulls, extremes, mergeable moments, KLL quantiles and a fixed-edge histogram.

    The histogram has ``len(edges) + 1`` counts: values below ``edges[0]``, one count per
    bin ``[edges[i], edges[i+1])`` (the last bin includes its upper edge), and values
    above ``edges[-1]``. Edges are set once (from the first batch's quantiles, or taken
    from a reference profile) so that profiles of new data stay comparable.
    """

    kind = "numeric"

    def __init__(self, dtype: str, edges: np.ndarray | None = None, bins: int = 20) -> None:
        import datasketches
        import numpy as np

        super().__init__(dtype)
        self.bins = bins
        self.minimum: float | None = None
        self.maximum: float | None = None
        self.mean = 0.0
        self.m2 = 0.0  # sum of squared deviations from the mean
        self.edges = None if edges is None else np.asarray(edges, dtype=np.float64)
        self.counts = np.zeros(0 if edges is None else len(edges) + 1, dtype=np.int64)
        self.kll = datasketches.kll_doubles_sketch(KLL_K)

    # -- building -----------------------------------------------------------------------

    def update(self, values: np.ndarray) -> None:
        """Add float64 values (NaN counts as null)."""
        import numpy as np

        missing = np.isnan(values)
        nulls = int(np.count_nonzero(missing))
        self.nulls += nulls
        present = values[~missing] if nulls else values
        if present.size == 0:
            return
        ordered = np.sort(present)
        self._add_moments(ordered)
        if self.edges is None:
            self.edges = quantile_edges(ordered, self.bins)
            self.counts = np.zeros(len(self.edges) + 1, dtype=np.int64)
        self.counts += histogram(ordered, self.edges)
        self.kll.update(ordered)

    def _add_moments(self, ordered: np.ndarray) -> None:
        n = ordered.size
        mean = float(ordered.mean())
        m2 = float(((ordered - mean) ** 2).sum())
        low, high = float(ordered[0]), float(ordered[-1])
        self._combine(n, mean, m2, low, high)

    def _combine(
        self, n: int, mean: float, m2: float, low: float | None, high: float | None
    ) -> None:
        total = self.count + n
        if n == 0:
            return
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total
        self.minimum = (
            low
            if self.minimum is None or (low is not None and low < self.minimum)
            else self.minimum
        )
        self.maximum = (
            high
            if self.maximum is None or (high is not None and high > self.maximum)
            else self.maximum
        )

    def merge(self, other: ColumnProfile) -> NumericProfile:
        import datasketches
        import numpy as np

        if not isinstance(other, NumericProfile):
            raise InvalidInput(f"cannot merge a numeric profile with a {other.kind} one")
        result = NumericProfile(self.dtype, self.edges, self.bins)
        result.nulls = self.nulls
        result._combine(self.count, self.mean, self.m2, self.minimum, self.maximum)
        result.nulls += other.nulls
        result._combine(other.count, other.mean, other.m2, other.minimum, other.maximum)
        if self.edges is None or not self.counts.any():
            result.edges, result.counts = other.edges, other.counts.copy()
            if self.edges is not None and other.edges is None:
                result.edges, result.counts = self.edges, self.counts.copy()
        elif other.edges is None or not other.counts.any():
            result.counts = self.counts.copy()
        elif np.array_equal(self.edges, other.edges):
            result.counts = self.counts + other.counts
        else:
            raise InvalidInput(
                "cannot merge numeric profiles whose histograms have different edges; "
                "profile the new data on the reference's edges: profile(df, like=reference)"
            )
        result.kll = datasketches.kll_doubles_sketch.deserialize(self.kll.serialize())
        result.kll.merge(other.kll)
        return result

    # -- reading ------------------------------------------------------------------------

    @property
    def variance(self) -> float | None:
        """Sample variance (``ddof=1``, like pandas); None below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else None

    @property
    def std(self) -> float | None:
        variance = self.variance
        return None if variance is None else variance**0.5

    @property
    def rank_error(self) -> float:
        """The quantile sketch's normalized rank error (99 % confidence)."""
        return float(self.kll.normalized_rank_error(False))

    def quantile(self, q: float) -> float | None:
        """The value at rank ``q`` (0..1), within :attr:`rank_error` in rank."""
        return None if self.kll.is_empty() else float(self.kll.get_quantile(q))

    def quantiles(self, qs: list[float]) -> list[float] | None:
        return None if self.kll.is_empty() else [float(v) for v in self.kll.get_quantiles(qs)]

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "min": self.minimum,
            "max": self.maximum,
            "mean": self.mean if self.count else None,
            "m2": self.m2,
            "bins": self.bins,
            "edges": None if self.edges is None else self.edges.tolist(),
            "counts": self.counts.tolist(),
            "kll": base64.b64encode(self.kll.serialize()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericProfile:
        import datasketches
        import numpy as np

        result = cls(data["dtype"], data.get("edges"), int(data.get("bins", 20)))
        result.count, result.nulls = int(data["count"]), int(data["nulls"])
        result.minimum, result.maximum = data.get("min"), data.get("max")
        result.mean, result.m2 = float(data.get("mean") or 0.0), float(data.get("m2") or 0.0)
        result.counts = np.asarray(data.get("counts", []), dtype=np.int64)
        result.kll = datasketches.kll_doubles_sketch.deserialize(base64.b64decode(data["kll"]))
        return result

    def summary(self) -> dict[str, Any]:
        median = self.quantile(0.5)
        return {
            **super().summary(),
            "min": self.minimum,
            "median": median,
            "max": self.maximum,
            "mean": self.mean if self.count else None,
            "std": self.std,
        }


def quantile_edges(ordered: np.ndarray, bins: int) -> np.ndarray:
    """Histogram edges at the ``bins``-quantiles of sorted values (repeated edges dropped)."""
    import numpy as np

    positions = np.round(np.linspace(0, ordered.size - 1, bins + 1)).astype(np.intp)
    edges = np.unique(ordered[positions])
    if edges.size == 1:
        edges = np.repeat(edges, 2)  # a constant column: one bin [c, c]
    return edges.astype(np.float64)


def histogram(ordered: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of sorted values below, inside each bin of, and above ``edges``."""
    import numpy as np

    left = np.searchsorted(ordered, edges, side="left")
    top = int(np.searchsorted(ordered, edges[-1], side="right"))
    return np.concatenate(([left[0]], np.diff(left[:-1]), [top - left[-2], ordered.size - top]))


class CategoricalProfile(ColumnProfile):
    """Value counts: exact up to :data:`EXACT_LIMIT` distinct values, then a frequent-items sketch.

    In sketch mode the counts of the most frequent values are estimates whose error is
    at most :attr:`max_error`, and the number of distinct values is a HyperLogLog estimate.
    """

    kind = "categorical"

    def __init__(self, dtype: str) -> None:
        super().__init__(dtype)
        self.exact: dict[str, int] | None = {}
        self.sketch: Any = None
        self.hll: HyperLogLog | None = None
        self.omitted = 0  # the largest count a value can have lost by batch truncation

    def update(self, column: pa.Array | pa.ChunkedArray) -> None:
        """Add the values of an Arrow array (nulls are counted, not tracked)."""
        values, counts = value_counts(column)
        nulls = column.null_count
        self.nulls += nulls
        self.count += len(column) - nulls
        self._add(values, counts)

    def _add(self, values: list[str], counts: np.ndarray) -> None:
        import numpy as np

        if self.exact is not None:
            for value, count in zip(values, counts.tolist(), strict=True):
                self.exact[value] = self.exact.get(value, 0) + count
            if len(self.exact) <= EXACT_LIMIT:
                return
            pending, self.exact = self.exact, None
            self._to_sketch(pending)
            return
        if len(values) > _FEED:
            keep = np.argpartition(counts, -_FEED)[-_FEED:]
            self.omitted += int(np.delete(counts, keep).max())
            self._hll_add(values)
            values, counts = [values[i] for i in keep.tolist()], counts[keep]
        else:
            self._hll_add(values)
        for value, count in zip(values, counts.tolist(), strict=True):
            self.sketch.update(value, count)

    def _to_sketch(self, pending: dict[str, int]) -> None:
        import datasketches
        import numpy as np

        self.sketch = datasketches.frequent_strings_sketch(FREQUENT_LG_K)
        self.hll = HyperLogLog()
        self._add(list(pending), np.fromiter(pending.values(), dtype=np.int64, count=len(pending)))

    def _hll_add(self, values: list[str]) -> None:
        import numpy as np

        assert self.hll is not None
        self.hll.update_strings(np.asarray(values, dtype=object))

    def merge(self, other: ColumnProfile) -> CategoricalProfile:
        import datasketches
        import numpy as np

        if not isinstance(other, CategoricalProfile):
            raise InvalidInput(f"cannot merge a categorical profile with a {other.kind} one")
        result = CategoricalProfile(self.dtype)
        result.count, result.nulls = self.count + other.count, self.nulls + other.nulls
        first, second = (self, other) if self.exact is None else (other, self)
        if first.exact is None:  # at least one side is a sketch: start from a copy of it
            result.exact = None
            result.sketch = datasketches.frequent_strings_sketch.deserialize(
                first.sketch.serialize()
            )
            result.hll = first.hll.merge(HyperLogLog())  # type: ignore[union-attr]
            result.omitted = first.omitted
        else:
            result.exact = dict(first.exact)
        if second.exact is not None:
            values = list(second.exact)
            result._add(
                values, np.fromiter(second.exact.values(), dtype=np.int64, count=len(values))
            )
        else:
            result.sketch.merge(second.sketch)
            result.hll = result.hll.merge(second.hll)  # type: ignore[union-attr,arg-type]
            result.omitted += second.omitted
        return result

    @property
    def distinct(self) -> float:
        """Number of distinct values: exact while counts are exact, else a HyperLogLog estimate."""
        if self.exact is not None:
            return float(len(self.exact))
        assert self.hll is not None
        return self.hll.estimate()

    @property
    def max_error(self) -> int:
        """Upper bound of the error of any count from :meth:`top_k` (0 when exact)."""
        if self.exact is not None:
            return 0
        return int(self.sketch.epsilon * self.sketch.total_weight) + 1 + self.omitted

    def top_k(self, k: int = 20) -> list[tuple[str, int]]:
        """The ``k`` most frequent values with their counts, most frequent first."""
        if self.exact is not None:
            return sorted(self.exact.items(), key=lambda item: (-item[1], item[0]))[:k]
        import datasketches

        rows = self.sketch.get_frequent_items(
            datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES
        )
        return [(str(row[0]), int(row[1])) for row in rows[:k]]

    def frequencies(self) -> dict[str, int]:
        """Every tracked value with its count (all values while exact)."""
        if self.exact is not None:
            return dict(self.exact)
        return dict(self.top_k(1 << FREQUENT_LG_K))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {**super().to_dict()}
        if self.exact is not None:
            data["exact"] = {"values": list(self.exact), "counts": list(self.exact.values())}
        else:
            data["sketch"] = base64.b64encode(self.sketch.serialize()).decode("ascii")
            data["hll"] = self.hll.to_dict()  # type: ignore[union-attr]
            data["omitted"] = self.omitted
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        import datasketches

        result = cls(data["dtype"])
        result.count, result.nulls = int(data["count"]), int(data["nulls"])
        if "exact" in data:
            result.exact = dict(zip(data["exact"]["values"], data["exact"]["counts"], strict=True))
        else:
            result.exact = None
            result.sketch = datasketches.frequent_strings_sketch.deserialize(
                base64.b64decode(data["sketch"])
            )
            result.hll = HyperLogLog.from_dict(data["hll"])
            result.omitted = int(data.get("omitted", 0))
        return result

    def summary(self) -> dict[str, Any]:
        top = self.top_k(3)
        return {
            **super().summary(),
            "distinct": round(self.distinct),
            "top": ", ".join(f"{value} ({count})" for value, count in top),
        }


def value_counts(column: pa.Array | pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """Distinct non-null values (as text) and their counts, computed in Arrow."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        indices = column.indices.to_numpy(zero_copy_only=False)
        if column.null_count:
            indices = indices[column.is_valid().to_numpy(zero_copy_only=False)]
        counts = np.bincount(indices.astype(np.intp), minlength=len(column.dictionary))
        used = np.flatnonzero(counts)
        labels = pc.cast(column.dictionary.take(pa.array(used)), pa.string()).to_pylist()
        return [str(v) for v in labels], counts[used]
    table = pc.value_counts(column)
    values, counts = table.field("values"), table.field("counts").to_numpy()
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    labels = values.filter(pa.array(valid)).to_pylist()
    return labels, counts[valid]


def from_dict(data: dict[str, Any]) -> ColumnProfile:
    """Rebuild any column summary from :meth:`ColumnProfile.to_dict`."""
    kind = data.get("kind")
    if kind == "numeric":
        return NumericProfile.from_dict(data)
    if kind == "categorical":
        return CategoricalProfile.from_dict(data)
    if kind == "other":
        return ColumnProfile(data["dtype"], int(data["count"]), int(data["nulls"]))
    raise InvalidInput(
        f"column profile kind {kind!r} is unknown; expected numeric, categorical or other"
    )
