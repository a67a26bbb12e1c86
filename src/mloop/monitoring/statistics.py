"""The drift statistics, as plain functions of counts, sorted samples or CDFs.

Binned statistics (PSI, Jensen–Shannon, Hellinger, chi-square) take two count vectors
over the same bins or categories. The exact distribution statistics (Kolmogorov–Smirnov,
Wasserstein) take two *sorted* samples; their sketch versions take two CDFs evaluated
on a shared grid. Each function states the definition it follows; the tests compare
them with scipy's.

>>> psi([50, 50], [40, 60])
0.0405...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike

__all__ = [
    "chisquare",
    "hellinger",
    "jensenshannon",
    "js_noise",
    "ks_cdf",
    "ks_p_value",
    "ks_sorted",
    "psi",
    "shares",
    "wasserstein_cdf",
    "wasserstein_sorted",
]


def shares(counts: ArrayLike) -> np.ndarray:
    """Counts as proportions (all zeros stay zeros)."""
    import numpy as np

    values = np.asarray(counts, dtype=np.float64)
    total = values.sum()
    return values / total if total > 0 else values


def psi(reference: ArrayLike, current: ArrayLike, epsilon: float = 1e-4) -> float:
    """Population stability index ``sum((q - p) * ln(q / p))`` over shared bins.

    ``p`` and ``q`` are the reference and current shares, each floored at ``epsilon``
    so that empty bins keep the index finite.
    """
    import numpy as np

    p = np.maximum(shares(reference), epsilon)
    q = np.maximum(shares(current), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def jensenshannon(reference: ArrayLike, current: ArrayLike) -> float:
    """Jensen–Shannon distance in base 2 (the square root of the divergence), in [0, 1].

    Same value as ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    """
    import numpy as np

    p, q = shares(reference), shares(current)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log2(p / m), 0.0)
        right = np.where(q > 0, q * np.log2(q / m), 0.0)
    divergence = 0.5 * float(left.sum() + right.sum())
    return float(np.sqrt(max(divergence, 0.0)))


def hellinger(reference: ArrayLike, current: ArrayLike) -> float:
    """Hellinger distance ``sqrt(1 - sum(sqrt(p * q)))``, in [0, 1]."""
    import numpy as np

    p, q = shares(reference), shares(current)
    return float(np.sqrt(max(1.0 - float(np.sqrt(p * q).sum()), 0.0)))


def chisquare(
    reference: ArrayLike, current: ArrayLike, min_expected: float = 5.0
) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity on the 2 x k table of counts.

    Categories empty on both sides are dropped, and categories whose expected count in
    the smaller sample is below ``min_expected`` are pooled into one (Cochran's rule:
    sparse cells make the chi-square approximation raise false alarms). With fewer than
    two categories left the samples cannot differ: ``(0.0, 1.0)``. The result is
    ``scipy.stats.chi2_contingency(table, correction=False)`` of the pooled table.
    """
    import numpy as np
    from scipy import stats

    table = np.vstack([np.asarray(reference, np.float64), np.asarray(current, np.float64)])
    table = table[:, table.sum(axis=0) > 0]
    sizes = table.sum(axis=1)
    if table.shape[1] < 2 or (sizes == 0).any():
        return 0.0, 1.0
    expected = table.sum(axis=0) * sizes.min() / sizes.sum()
    sparse = expected < min_expected
    if sparse.any():
        pooled = table[:, sparse].sum(axis=1, keepdims=True)
        table = np.hstack([table[:, ~sparse], pooled])
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def js_noise(categories: int, n: int, m: int) -> float:
    """The Jensen–Shannon distance two samples of one distribution show by chance alone.

    For ``k`` categories and sample sizes ``n`` and ``m`` the divergence (base 2) of two
    such samples is about ``(k - 1) (1/n + 1/m) / (8 ln 2)``; this is its square root.
    """
    import math

    return math.sqrt(max(categories - 1, 0) * (1 / n + 1 / m) / (8 * math.log(2)))


def _merged(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both empirical CDFs at every value of the merged sample (ends of ties only)."""
    import numpy as np

    n = a.size
    values = np.concatenate([a, b])
    order = np.argsort(values, kind="stable")  # two sorted runs: a merge
    values = values[order]
    from_a = np.cumsum(order < n)
    del order
    f_a = from_a / n
    f_b = (np.arange(1, values.size + 1) - from_a) / b.size
    return values, f_a, f_b


def ks_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic ``max |F_a - F_b|`` of sorted samples."""
    return distances_sorted(a, b)[0]


def wasserstein_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """First Wasserstein distance ``integral |F_a - F_b| dx`` of two sorted samples."""
    return distances_sorted(a, b)[1]


def distances_sorted(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``(ks, wasserstein)`` of two non-empty sorted samples in one merge."""
    import numpy as np

    values, f_a, f_b = _merged(a, b)
    gap = np.abs(f_a - f_b)
    last = np.empty(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=last[:-1])
    last[-1] = True
    ks = float(gap[last].max())
    wasserstein = float(np.dot(gap[:-1], np.diff(values)))
    return ks, wasserstein


def ks_cdf(f_a: ArrayLike, f_b: ArrayLike) -> float:
    """Kolmogorov–Smirnov statistic from two CDFs evaluated on the same grid."""
    import numpy as np

    return float(np.max(np.abs(np.asarray(f_a) - np.asarray(f_b))))


def wasserstein_cdf(grid: ArrayLike, f_a: ArrayLike, f_b: ArrayLike) -> float:
    """First Wasserstein distance from two CDFs on a sorted grid (trapezoid rule)."""
    import numpy as np

    x = np.asarray(grid, np.float64)
    gap = np.abs(np.asarray(f_a, np.float64) - np.asarray(f_b, np.float64))
    return float(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(x)))


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Asymptotic two-sided p-value of a two-sample KS statistic.

    With ``e = n m / (n + m)`` effective observations: up to 10,000, scipy's ``asymp``
    value (``kstwo.sf(D, round(e))``); beyond, the Kolmogorov limit with Stephens'
    correction, ``kstwobign.sf((sqrt(e) + 0.12 + 0.11 / sqrt(e)) D)``, which agrees with
    it within 0.5 % for p above 1e-4 and takes microseconds instead of a second or more
    (scipy's exact ``kstwo`` at ``e`` = 500,000).
    """
    import math

    import numpy as np
    from scipy import stats

    big, small = max(n, m), min(n, m)
    effective = big * small / (big + small)
    if effective <= 10_000:
        value = stats.kstwo.sf(statistic, np.round(effective))
    else:
        root = math.sqrt(effective)
        value = stats.kstwobign.sf((root + 0.12 + 0.11 / root) * statistic)
    return float(np.clip(value, 0.0, 1.0))


def ks_exact(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``(statistic, p-value)`` of scipy's two-sample KS test (exact for small samples)."""
    from scipy import stats

    result: Any = stats.ks_2samp(a, b)
    return float(result.statistic), float(result.pvalue)
