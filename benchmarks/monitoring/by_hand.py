"""The same drift statistics written by hand with numpy, pandas and scipy (the baseline).

Per numeric column: reference quantile bins (20, plus a bin below and one above) for PSI,
Jensen–Shannon (base 2), Hellinger and chi-square; ``scipy.stats.wasserstein_distance``
divided by the reference standard deviation; the KS statistic as ``scipy.stats.ks_2samp``
computes it (sorts and searches) with the Kolmogorov-limit p-value.
Per categorical column: ``value_counts`` on both sides, aligned, then PSI, Jensen–Shannon,
Hellinger and chi-square. This is what a careful engineer writes without a library.
"""

from __future__ import annotations

from typing import Any

EPSILON = 1e-4


def _binned(p_counts: Any, q_counts: Any) -> dict[str, float]:
    import numpy as np
    from scipy import stats
    from scipy.spatial import distance

    p, q = p_counts / p_counts.sum(), q_counts / q_counts.sum()
    pf, qf = np.maximum(p, EPSILON), np.maximum(q, EPSILON)
    table = np.vstack([p_counts, q_counts])
    table = table[:, table.sum(axis=0) > 0]
    return {
        "psi": float(np.sum((qf - pf) * np.log(qf / pf))),
        "jensenshannon": float(distance.jensenshannon(p, q, base=2)),
        "hellinger": float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))),
        "chisquare": float(stats.chi2_contingency(table, correction=False).pvalue),
    }


def numeric(reference: Any, current: Any) -> dict[str, float]:
    import numpy as np
    from scipy import stats

    ref = reference[~np.isnan(reference)]
    cur = current[~np.isnan(current)]
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 21)))
    bins = np.concatenate(([-np.inf], edges, [np.inf]))
    scores = _binned(
        np.histogram(ref, bins)[0].astype(float), np.histogram(cur, bins)[0].astype(float)
    )
    scores["wasserstein"] = float(stats.wasserstein_distance(ref, cur) / ref.std())
    scores["ks"] = ks_p_value(ref, cur)
    return scores


def ks_p_value(reference: Any, current: Any) -> float:
    """Two-sample KS as scipy computes the statistic, with the Kolmogorov-limit p-value.

    ``scipy.stats.ks_2samp(method="asymp")`` evaluates ``kstwo.sf`` at n = 500,000, which
    alone takes over a second per column; both sides of the benchmark use the limit.
    """
    import math

    import numpy as np
    from scipy import stats

    a, b = np.sort(reference), np.sort(current)
    values = np.concatenate([a, b])
    gap = (
        np.searchsorted(a, values, side="right") / a.size
        - np.searchsorted(b, values, side="right") / b.size
    )
    statistic = float(np.max(np.abs(gap)))
    root = math.sqrt(a.size * b.size / (a.size + b.size))
    return float(stats.kstwobign.sf((root + 0.12 + 0.11 / root) * statistic))


def categorical(reference: Any, current: Any) -> dict[str, float]:
    import pandas as pd

    counts = pd.concat(
        [reference.value_counts(), current.value_counts()], axis=1, keys=["ref", "cur"]
    ).fillna(0.0)
    return _binned(counts["ref"].to_numpy(float), counts["cur"].to_numpy(float))


def drift(
    reference: Any, current: Any, numeric_columns: list[str], categorical_columns: list[str]
) -> dict[str, dict[str, float]]:
    result = {
        c: numeric(reference[c].to_numpy(float), current[c].to_numpy(float))
        for c in numeric_columns
    }
    result.update({c: categorical(reference[c], current[c]) for c in categorical_columns})
    return result
