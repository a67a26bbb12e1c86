"""Drift between a reference and a current data set, column by column and as a whole.

>>> from mloop import monitoring
>>> report = monitoring.drift(train_df, live_df, importance={"temp": 0.6, "wind_speed": 0.1})
>>> report.features["temp"]
FeatureDrift(column='temp', kind='numeric', statistic='wasserstein', score=0.42, ...)
>>> report.dataset.share, report.dataset.score, report.dataset.drifted

Either side may be raw rows (exact statistics) or a stored :class:`mloop.data.Profile`
(statistics from its fixed-edge histograms and quantile sketches). The choice of
statistic and the thresholds are in :mod:`mloop.monitoring.defaults`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.monitoring import statistics as st
from mloop.monitoring._arguments import check_columns, check_importance, per_column
from mloop.monitoring._sides import OTHER, CategoricalSide, NumericSide, aligned
from mloop.monitoring._sources import Source, source_of
from mloop.monitoring.defaults import (
    NUMERIC_ONLY,
    DriftDefaults,
    check_statistic,
    defaults,
    is_drifted,
)
from mloop.monitoring.report import DatasetDrift, DriftReport, FeatureDrift, Finding

if TYPE_CHECKING:
    import numpy as np

__all__ = ["drift"]

_GRID = 1025  # quantile ranks per side when a profile is compared (sketch statistics)
_PARALLEL_ROWS = 50_000


def drift(
    reference: Any,
    current: Any,
    columns: list[str] | None = None,
    importance: Mapping[str, float] | Any = None,
    *,
    stats: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    config: DriftDefaults | None = None,
    title: str = "Drift report",
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column.

    Args:
        reference: the data the model was trained on, as a DataFrame, Arrow table,
            :class:`mloop.data.Profile`, dataset version or reference (``"weather@3"``).
        current: the data to check, in any of the same forms.
        columns: the columns to compare (default: every numeric and categorical column
            of the reference).
        importance: a weight per column (e.g. feature importances); the dataset score
            weights drifted columns by it.
        stats: a statistic per column overriding the default (``{"temp": "psi"}``).
        thresholds: a threshold per column overriding the statistic's default.
        config: other defaults (:class:`DriftDefaults`).

    Returns:
        A :class:`DriftReport`. Columns missing from ``current``, entirely null, or with
        categories never seen in the reference are reported in ``findings`` (and their
        ``status``), never raised.

    Raises:
        InvalidInput: an argument has the wrong form or names an unknown statistic.
        NotFound: ``columns`` names a column the reference does not have.

    Example:
        >>> report = drift(jan_df, jul_df, columns=["temp", "wind_speed", "origin"])
        >>> report.drifted
        ['temp']
    """
    started = time.perf_counter()
    cfg = config or defaults
    ref = source_of(reference, "reference")
    cur = source_of(current, "current")
    if ref.rows == 0:
        raise InvalidInput(
            "reference has no rows; drift needs a reference sample (e.g. the training data)."
        )
    names = check_columns(columns, ref)
    stats = per_column(stats, names, "stats")
    limits = per_column(thresholds, names, "thresholds")
    weights = check_importance(importance, names)
    findings: list[Finding] = []
    compared: list[str] = []
    features: dict[str, FeatureDrift] = {}
    for name in names:
        kind = ref.kinds[name]
        if kind not in ("numeric", "categorical"):
            features[name] = _not_compared(name, kind, "skipped", ref, cur)
            findings.append(Finding(name, "skipped", f"column {name!r} is {kind}; not compared."))
            continue
        chosen = stats.get(name)
        if chosen is not None:
            check_statistic(chosen, f"stats[{name!r}]")
            if chosen in NUMERIC_ONLY and kind != "numeric":
                raise InvalidInput(
                    f"stats[{name!r}] = {chosen!r} needs a numeric column but {name!r} is "
                    "categorical; use chisquare, jensenshannon, psi or hellinger."
                )
        if name not in cur.kinds:
            features[name] = _not_compared(name, kind, "missing", ref, cur)
            findings.append(
                Finding(name, "missing", f"column {name!r} is missing from the current data.")
            )
            continue
        if cur.kinds[name] != kind:
            features[name] = _not_compared(name, kind, "skipped", ref, cur)
            findings.append(
                Finding(
                    name,
                    "type_changed",
                    f"column {name!r} is {kind} in the reference but {cur.kinds[name]} in the "
                    "current data; not compared.",
                )
            )
            continue
        compared.append(name)

    def work(name: str) -> tuple[FeatureDrift, list[Finding]]:
        return _compare(name, ref, cur, stats.get(name), limits.get(name), cfg)

    parallel = len(compared) > 1 and max(ref.rows, cur.rows) >= _PARALLEL_ROWS
    if parallel:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(work, compared))
    else:
        results = [work(name) for name in compared]
    for feature, found in results:
        features[feature.column] = feature
        findings.extend(found)
    ordered = {name: features[name] for name in names}
    for name, feature in ordered.items():
        feature.importance = weights.get(name) if weights is not None else None
    return DriftReport(
        features=ordered,
        dataset=_dataset(ordered, weights, cfg),
        findings=findings,
        reference_rows=ref.rows,
        current_rows=cur.rows,
        seconds=time.perf_counter() - started,
        title=title,
    )


# -- one column --------------------------------------------------------------------------


def _not_compared(name: str, kind: str, status: str, ref: Source, cur: Source) -> FeatureDrift:
    return FeatureDrift(
        column=name,
        kind=kind,
        statistic=None,
        score=None,
        threshold=None,
        drifted=None,
        status=status,
        reference_rows=ref.rows,
        current_rows=cur.rows if name in cur.kinds else 0,
    )


def _compare(
    name: str,
    ref: Source,
    cur: Source,
    chosen: str | None,
    limit: float | None,
    cfg: DriftDefaults,
) -> tuple[FeatureDrift, list[Finding]]:
    kind = ref.kinds[name]
    a, b = ref.side(name, kind), cur.side(name, kind)
    findings: list[Finding] = []
    result = FeatureDrift(
        column=name,
        kind=kind,
        statistic=None,
        score=None,
        threshold=None,
        drifted=None,
        status="ok",
        reference_rows=a.rows,
        current_rows=b.rows,
        reference_null_share=a.nulls / a.rows if a.rows else 0.0,
        current_null_share=b.nulls / b.rows if b.rows else 0.0,
    )
    for side, label in ((a, "reference"), (b, "current")):
        if side.invalid:
            findings.append(
                Finding(
                    name,
                    "invalid_values",
                    f"{side.invalid:,} infinite values of {name!r} in the {label} data were left out.",
                )
            )
    rise = result.current_null_share - result.reference_null_share
    if b.n and rise > cfg.null_share_rise:
        findings.append(
            Finding(
                name,
                "null_share",
                f"the null share of {name!r} rose from {result.reference_null_share:.1%} to "
                f"{result.current_null_share:.1%}.",
            )
        )
    if a.n == 0:
        result.status = "skipped"
        findings.append(
            Finding(name, "reference_empty", f"{name!r} has no values in the reference.")
        )
    elif b.n == 0:
        result.status = "empty"
        message = (
            "the current data has no rows"
            if b.rows == 0
            else f"all {b.rows:,} values of {name!r} are null in the current data"
        )
        findings.append(Finding(name, "all_null", message + "; drift not computed."))
    else:
        if isinstance(a, NumericSide) and isinstance(b, NumericSide):
            _numeric(result, a, b, cfg)
        elif isinstance(a, CategoricalSide) and isinstance(b, CategoricalSide):
            _categorical(result, a, b, cfg)
            if result.new_categories:
                shown = ", ".join(repr(v) for v in result.new_categories[:5])
                more = len(result.new_categories) - 5
                where = "in the reference" if a.exact else "among the reference's frequent values"
                findings.append(
                    Finding(
                        name,
                        "new_categories",
                        f"{len(result.new_categories)} value(s) of {name!r} never seen {where}: "
                        f"{shown}{f' and {more} more' if more > 0 else ''}.",
                    )
                )
        statistic = chosen or cfg.statistic_for(kind, a.n, b.n, len(result.bins))
        threshold = float(limit) if limit is not None else cfg.threshold_for(statistic)
        score = result.scores[statistic]
        result.statistic, result.score, result.threshold = statistic, score, threshold
        result.drifted = is_drifted(statistic, score, threshold)
        result.status = "drifted" if result.drifted else "ok"
    result.findings = [f.message for f in findings]
    return result, findings


def _binned(
    result: FeatureDrift, ref_counts: np.ndarray, cur_counts: np.ndarray, cfg: DriftDefaults
) -> None:
    scores = result.scores
    scores["psi"] = st.psi(ref_counts, cur_counts, cfg.psi_epsilon)
    scores["jensenshannon"] = st.jensenshannon(ref_counts, cur_counts)
    scores["hellinger"] = st.hellinger(ref_counts, cur_counts)
    statistic, p_value = st.chisquare(ref_counts, cur_counts)
    scores["chisquare"] = p_value
    scores["chisquare_statistic"] = statistic
    result.reference_counts = [float(v) for v in ref_counts]
    result.current_counts = [float(v) for v in cur_counts]


def _numeric(result: FeatureDrift, a: NumericSide, b: NumericSide, cfg: DriftDefaults) -> None:
    import numpy as np

    edges = a.quantile_edges(cfg.bins)
    _binned(result, a.histogram(edges), b.histogram(edges), cfg)
    result.bins = _bin_labels(edges)
    if a.values is not None and b.values is not None:
        if max(a.n, b.n) <= cfg.exact_ks_limit:
            ks, p_value = st.ks_exact(a.values, b.values)
            wasserstein = st.wasserstein_sorted(a.values, b.values)
        else:
            ks, wasserstein = st.distances_sorted(a.values, b.values)
            p_value = st.ks_p_value(ks, a.n, b.n)
    else:
        ranks = np.linspace(0.0, 1.0, _GRID)
        grid = np.unique(
            np.concatenate(
                [
                    a.quantiles(ranks),
                    b.quantiles(ranks),
                    [a.minimum, a.maximum, b.minimum, b.maximum],
                ]
            )
        )
        f_a, f_b = a.cdf(grid), b.cdf(grid)
        ks = st.ks_cdf(f_a, f_b)
        wasserstein = st.wasserstein_cdf(grid, f_a, f_b)
        p_value = st.ks_p_value(ks, a.n, b.n)
    scale = a.std if a.std > 0 else abs(a.mean) if a.mean else 1.0
    result.scores["wasserstein"] = wasserstein / scale
    result.scores["wasserstein_raw"] = wasserstein
    result.scores["ks"] = p_value
    result.scores["ks_statistic"] = ks


def _categorical(
    result: FeatureDrift, a: CategoricalSide, b: CategoricalSide, cfg: DriftDefaults
) -> None:
    labels, ref_counts, cur_counts = aligned(a, b)
    _binned(result, ref_counts, cur_counts, cfg)
    result.bins = labels
    result.new_categories = [
        label for label in b.counts if label not in a.counts and label != OTHER
    ]


def _bin_labels(edges: np.ndarray) -> list[str]:
    def fmt(value: float) -> str:
        return f"{value:.4g}"

    labels = [f"< {fmt(edges[0])}"]
    for i in range(len(edges) - 1):
        close = "]" if i == len(edges) - 2 else ")"
        labels.append(f"[{fmt(edges[i])}, {fmt(edges[i + 1])}{close}")
    labels.append(f"> {fmt(edges[-1])}")
    return labels


# -- the data set ------------------------------------------------------------------------


def _dataset(
    features: dict[str, FeatureDrift], weights: dict[str, float] | None, cfg: DriftDefaults
) -> DatasetDrift:
    compared = [f for f in features.values() if f.drifted is not None]
    drifted = [f for f in compared if f.drifted]
    share = len(drifted) / len(compared) if compared else 0.0
    if weights is None:
        score = share
    else:
        total = sum(weights[f.column] for f in compared)
        score = sum(weights[f.column] for f in drifted) / total if total > 0 else 0.0
    return DatasetDrift(
        columns=len(compared),
        drifted_columns=len(drifted),
        share=share,
        score=score,
        threshold=cfg.dataset_share,
        drifted=bool(compared) and (share >= cfg.dataset_share or score >= cfg.dataset_share),
        missing=[f.column for f in features.values() if f.status == "missing"],
        skipped=[f.column for f in features.values() if f.status in ("skipped", "empty")],
    )
