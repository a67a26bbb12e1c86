"""The summary of a numeric column: exact moments and extremes, KLL quantiles, fixed-edge histogram."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.data._columns import ColumnProfile

if TYPE_CHECKING:
    import numpy as np

KLL_K = 200  # normalized rank error about 1.3 % (DataSketches' bound, 99 % confidence)


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
