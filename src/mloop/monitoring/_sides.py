"""One column on one side of a drift comparison: raw values (exact) or a stored profile (sketch).

Raw numeric values are kept sorted, so histograms, CDFs and quantiles are exact lookups;
a profile answers the same questions from its fixed-edge histogram and KLL sketch.
Categorical columns are value counts either way (a profile past its exact limit tracks
the frequent values and keeps the rest as ``other``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass
class NumericSide:
    """A numeric column: count, nulls, moments, and either sorted values or a sketch."""

    rows: int
    nulls: int
    invalid: int  # infinite values, left out of the statistics
    mean: float
    spread: float | None  # population standard deviation (None: computed when first read)
    minimum: float
    maximum: float
    values: np.ndarray | None = field(default=None, repr=False)  # sorted, finite
    sketch: Any = field(default=None, repr=False)  # a KLL sketch
    edges: np.ndarray | None = field(default=None, repr=False)
    counts: np.ndarray | None = field(default=None, repr=False)

    kind = "numeric"

    @property
    def n(self) -> int:
        return self.rows - self.nulls - self.invalid

    @property
    def std(self) -> float:
        """Population standard deviation (of raw values: computed once, when first needed)."""
        if self.spread is None:
            import numpy as np

            assert self.values is not None
            centred = self.values - self.mean
            self.spread = float(np.sqrt(np.dot(centred, centred) / max(self.values.size, 1)))
        return self.spread

    @property
    def exact(self) -> bool:
        return self.values is not None

    @classmethod
    def from_values(cls, raw: np.ndarray) -> NumericSide:
        """Summarise float64 values (NaN = null, ±inf = invalid)."""
        import numpy as np

        rows = int(raw.size)
        finite = np.isfinite(raw)
        kept = int(np.count_nonzero(finite))
        nulls = int(np.count_nonzero(np.isnan(raw))) if kept < rows else 0
        values = np.sort(raw[finite] if kept < rows else raw)
        if values.size == 0:
            return cls(rows, nulls, rows - nulls - kept, 0.0, 0.0, 0.0, 0.0, values)
        return cls(
            rows,
            nulls,
            rows - nulls - kept,
            float(values.mean()),
            None,  # only the reference's is used (to normalise Wasserstein)
            float(values[0]),
            float(values[-1]),
            values,
        )

    @classmethod
    def from_profile(cls, column: Any) -> NumericSide:
        """Summarise a numeric column of a :class:`mloop.data.Profile`."""
        count = int(column.count)
        std = (float(column.m2) / count) ** 0.5 if count else 0.0
        return cls(
            rows=count + int(column.nulls),
            nulls=int(column.nulls),
            invalid=0,
            mean=float(column.mean) if count else 0.0,
            spread=std,
            minimum=float(column.minimum) if column.minimum is not None else 0.0,
            maximum=float(column.maximum) if column.maximum is not None else 0.0,
            sketch=column.kll,
            edges=column.edges,
            counts=column.counts,
        )

    def quantile_edges(self, bins: int) -> np.ndarray:
        """Histogram edges at the ``bins``-quantiles (repeated edges dropped)."""
        import numpy as np

        if self.edges is not None and not self.exact:
            return np.asarray(self.edges, np.float64)
        assert self.values is not None
        positions = np.round(np.linspace(0, self.values.size - 1, bins + 1)).astype(np.intp)
        edges = np.unique(self.values[positions])
        return np.repeat(edges, 2) if edges.size == 1 else edges

    def histogram(self, edges: np.ndarray) -> np.ndarray:
        """Counts below ``edges[0]``, in each bin ``[e_i, e_i+1)`` (last one closed) and above."""
        import numpy as np

        if self.values is not None:
            ordered = self.values
            left = np.searchsorted(ordered, edges, side="left")
            top = int(np.searchsorted(ordered, edges[-1], side="right"))
            return np.concatenate(
                ([left[0]], np.diff(left[:-1]), [top - left[-2], ordered.size - top])
            )
        if self.counts is not None and self.edges is not None and np.array_equal(self.edges, edges):
            return np.asarray(self.counts, np.float64)
        # a profile binned on other edges: shares from its quantile sketch
        below = self.cdf(edges, inclusive=False)
        last = float(self.cdf(edges[-1:], inclusive=True)[0])
        inner = np.diff(below)
        inner[-1] += last - below[-1]  # the last bin includes its upper edge
        shares = np.concatenate(([below[0]], inner, [1.0 - last]))
        return np.maximum(shares, 0.0) * self.n

    def cdf(self, points: np.ndarray, inclusive: bool = True) -> np.ndarray:
        """``P(X <= x)`` (or ``P(X < x)``) at each point."""
        import numpy as np

        points = np.asarray(points, np.float64)
        if self.n == 0:
            return np.zeros(points.size)
        if self.values is not None:
            found = np.searchsorted(self.values, points, side="right" if inclusive else "left")
            return found / self.values.size
        unique, inverse = np.unique(points, return_inverse=True)
        ranks = np.asarray(self.sketch.get_cdf(unique.tolist(), inclusive), np.float64)[:-1]
        return ranks[inverse]

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.values is not None:
            positions = np.round(ranks * (self.values.size - 1)).astype(np.intp)
            return self.values[positions]
        return np.asarray(self.sketch.get_quantiles(list(map(float, ranks))), np.float64)


@dataclass
class CategoricalSide:
    """A categorical column: value counts (``other`` = values a sketch did not itemise)."""

    rows: int
    nulls: int
    counts: dict[str, int]
    other: int = 0
    exact: bool = True

    kind = "categorical"
    invalid = 0

    @property
    def n(self) -> int:
        return self.rows - self.nulls

    @classmethod
    def from_values(cls, column: Any) -> CategoricalSide:
        """Count the values of a pandas Series or Arrow array (as text)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        array = column if isinstance(column, pa.Array | pa.ChunkedArray) else None
        if array is None:
            array = pa.array(column, from_pandas=True)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            array = pc.cast(array, pa.string())
        table = pc.value_counts(array)
        values, counts = table.field("values"), table.field("counts").to_pylist()
        found = {
            str(value): int(count)
            for value, count in zip(values.to_pylist(), counts, strict=True)
            if value is not None
        }
        return cls(rows=len(array), nulls=array.null_count, counts=found)

    @classmethod
    def from_profile(cls, column: Any) -> CategoricalSide:
        """Counts of a categorical column of a :class:`mloop.data.Profile`."""
        counts = {str(k): int(v) for k, v in column.frequencies().items()}
        other = max(int(column.count) - sum(counts.values()), 0)
        return cls(
            rows=int(column.count) + int(column.nulls),
            nulls=int(column.nulls),
            counts=counts,
            other=other,
            exact=column.exact is not None,
        )


OTHER = "(other)"


def aligned(reference: CategoricalSide, current: CategoricalSide) -> tuple[list[str], Any, Any]:
    """Category labels and both count vectors over the union of categories."""
    import numpy as np

    labels = list(dict.fromkeys([*reference.counts, *current.counts]))
    ref = [reference.counts.get(label, 0) for label in labels]
    cur = [current.counts.get(label, 0) for label in labels]
    if reference.other or current.other:
        labels.append(OTHER)
        ref.append(reference.other)
        cur.append(current.other)
    return labels, np.asarray(ref, np.float64), np.asarray(cur, np.float64)
