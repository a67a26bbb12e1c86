"""Metric definitions, computed per group in one vectorised pass (overall = one group).

Binary classification metrics come from confusion counts, probability sums and ranks;
regression metrics from residual sums. A metric that cannot be defined on a group (one
class only, no probabilities, a zero target for MAPE...) is NaN with a reason, never a
silently wrong number.

>>> GREATER_IS_BETTER["log_loss"]
False
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "BINARY",
    "GREATER_IS_BETTER",
    "MULTICLASS",
    "REGRESSION",
    "GroupMetrics",
    "binary_metrics",
    "greater_is_better",
    "multiclass_metrics",
    "multiclass_roc_auc",
    "regression_metrics",
]

BINARY = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
)
MULTICLASS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION = ("mae", "rmse", "r2", "mape")

GREATER_IS_BETTER: dict[str, bool] = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "pr_auc": True,
    "log_loss": False,
    "brier": False,
    "mae": False,
    "rmse": False,
    "r2": True,
    "mape": False,
    "selection_rate": True,
}

_EPS = sys.float_info.epsilon  # probabilities are clipped there, as scikit-learn does


def greater_is_better(metric: str, kpis: dict[str, bool] | None = None) -> bool:
    """Whether a higher value of ``metric`` (or of a KPI) is better."""
    if kpis and metric in kpis:
        return kpis[metric]
    return GREATER_IS_BETTER.get(metric, True)


@dataclass
class GroupMetrics:
    """Metric columns for ``n_groups`` groups, with the reason each NaN is undefined."""

    values: dict[str, np.ndarray]
    notes: dict[str, list[str]] = field(default_factory=dict)  # metric -> reason per group

    def reason(self, metric: str, group: int) -> str:
        reasons = self.notes.get(metric)
        return reasons[group] if reasons else ""


def _mark(
    values: np.ndarray, undefined: np.ndarray, reason: str, notes: list[str] | None
) -> tuple[np.ndarray, list[str]]:
    import numpy as np

    out = values.astype(float, copy=True)
    out[undefined] = np.nan
    found = notes if notes is not None else [""] * len(out)
    for i in np.flatnonzero(undefined):
        found[i] = found[i] or reason
    return out, found


def _ratio(
    num: np.ndarray, den: np.ndarray, reason: str, notes: dict[str, list[str]], name: str
) -> np.ndarray:
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        value = num / den
    value, notes[name] = _mark(value, den == 0, reason, notes.get(name))
    return value


def _quiet(fn: Any) -> Any:
    """Run ``fn`` without numpy's divide warnings: empty or one-class groups become NaN."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import numpy as np

        with np.errstate(divide="ignore", invalid="ignore"):
            return fn(*args, **kwargs)

    return wrapper


@_quiet
def binary_metrics(
    codes: np.ndarray,
    n_groups: int,
    positive: np.ndarray,
    predicted: np.ndarray,
    score: np.ndarray | None,
    score_is_probability: bool,
    missing_score_reason: str = "",
) -> GroupMetrics:
    """Binary metrics per group; ``positive``/``predicted`` are booleans, ``score`` ranks rows."""
    import numpy as np

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=mask.astype(float), minlength=n_groups)

    n = np.bincount(codes, minlength=n_groups).astype(float)
    tp = count(positive & predicted)
    fp = count(~positive & predicted)
    fn = count(positive & ~predicted)
    pos = tp + fn
    neg = n - pos
    notes: dict[str, list[str]] = {}
    values: dict[str, np.ndarray] = {"accuracy": (n - fp - fn) / np.maximum(n, 1)}
    values["precision"] = _ratio(tp, tp + fp, "no row is predicted positive", notes, "precision")
    values["recall"] = _ratio(tp, pos, "no positive row in the target", notes, "recall")
    values["f1"] = _ratio(
        2 * tp, 2 * tp + fp + fn, "no positive row, predicted or actual", notes, "f1"
    )
    if score is None:
        for name in ("roc_auc", "pr_auc", "log_loss", "brier"):
            values[name] = np.full(n_groups, np.nan)
            notes[name] = [missing_score_reason] * n_groups
        return GroupMetrics(values, notes)
    values["roc_auc"], values["pr_auc"], notes["roc_auc"], notes["pr_auc"] = _ranking(
        codes, n_groups, positive, score, pos, neg
    )
    if score_is_probability:
        p = np.clip(score, _EPS, 1 - _EPS)
        loss = -np.where(positive, np.log(p), np.log1p(-p))
        values["log_loss"] = np.bincount(codes, weights=loss, minlength=n_groups) / n
        brier = (score - positive) ** 2
        values["brier"] = np.bincount(codes, weights=brier, minlength=n_groups) / n
    else:
        reason = "the model gives decision scores, not probabilities"
        for name in ("log_loss", "brier"):
            values[name] = np.full(n_groups, np.nan)
            notes[name] = [reason] * n_groups
    return GroupMetrics(values, notes)


def _ranking(
    codes: np.ndarray,
    n_groups: int,
    positive: np.ndarray,
    score: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """ROC AUC and average precision (PR AUC) of every group from one sort.

    Rows are sorted by group, then score descending; each distinct score of a group is a
    threshold. ROC AUC is the trapezoid area under (FPR, TPR) over those thresholds, and
    average precision is the sum of precision times the recall step — scikit-learn's
    definitions, ties included.
    """
    import numpy as np

    # sort by score (descending), then stably by group: a radix sort for small group numbers
    by_score = np.argsort(-score, kind="stable")
    small = np.int16 if n_groups < 2**15 else np.int64
    order = by_score[np.argsort(codes[by_score].astype(small), kind="stable")]
    g, s = codes[order], score[order]
    hits = positive[order].astype(float)
    size = len(g)
    starts = np.ones(size, dtype=bool)
    starts[1:] = g[1:] != g[:-1]
    start_at = np.maximum.accumulate(np.where(starts, np.arange(size), 0))
    cum = np.cumsum(hits)
    before = np.where(start_at > 0, cum[np.maximum(start_at - 1, 0)], 0.0)
    tp_all = cum - before
    n_all = np.arange(size) - start_at + 1
    ends = np.ones(size, dtype=bool)
    ends[:-1] = (g[1:] != g[:-1]) | (s[1:] != s[:-1])
    tp, fp, ge = tp_all[ends], (n_all - tp_all)[ends], g[ends]
    first = np.ones(len(ge), dtype=bool)
    first[1:] = ge[1:] != ge[:-1]
    tp_prev = np.where(first, 0.0, np.r_[0.0, tp[:-1]])
    fp_prev = np.where(first, 0.0, np.r_[0.0, fp[:-1]])
    area = np.bincount(ge, weights=(fp - fp_prev) * (tp + tp_prev) / 2, minlength=n_groups)
    step = np.bincount(ge, weights=(tp - tp_prev) * tp / (tp + fp), minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = area / (pos * neg)
        ap = step / pos
    auc_reasons, ap_reasons = [""] * n_groups, [""] * n_groups
    for i in np.flatnonzero((pos == 0) | (neg == 0)):
        only = "positive" if neg[i] == 0 else "negative"
        auc_reasons[i] = f"only {only} rows in the target (ROC AUC needs both classes)"
        auc[i] = np.nan
    for i in np.flatnonzero(pos == 0):
        ap_reasons[i] = "no positive row in the target (PR AUC needs one)"
        ap[i] = np.nan
    return auc, ap, auc_reasons, ap_reasons


@_quiet
def multiclass_metrics(
    codes: np.ndarray,
    n_groups: int,
    y: np.ndarray,
    predicted: np.ndarray,
    proba: np.ndarray | None,
    classes: list[object],
    missing_score_reason: str = "",
) -> GroupMetrics:
    """Accuracy and macro-averaged precision, recall and F1 per group; log loss from probabilities."""
    import numpy as np

    n = np.bincount(codes, minlength=n_groups).astype(float)
    correct = np.bincount(codes, weights=(y == predicted).astype(float), minlength=n_groups)
    values: dict[str, np.ndarray] = {"accuracy": correct / np.maximum(n, 1)}
    notes: dict[str, list[str]] = {}
    # macro average over the classes present (actual or predicted) in each group; like
    # scikit-learn, a present class with no predicted (or actual) rows counts as 0
    sums = {"precision": np.zeros(n_groups), "recall": np.zeros(n_groups), "f1": np.zeros(n_groups)}
    present = np.zeros(n_groups)
    for label in classes:
        actual, guessed = y == label, predicted == label
        tp = np.bincount(codes, weights=(actual & guessed).astype(float), minlength=n_groups)
        fp = np.bincount(codes, weights=(~actual & guessed).astype(float), minlength=n_groups)
        fn = np.bincount(codes, weights=(actual & ~guessed).astype(float), minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            sums["precision"] += np.where(tp + fp > 0, tp / (tp + fp), 0.0)
            sums["recall"] += np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            sums["f1"] += np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        present += (tp + fp + fn) > 0
    for name, total in sums.items():
        values[name] = total / np.maximum(present, 1)
    values["roc_auc"] = np.full(n_groups, np.nan)  # overall only, by the caller
    if proba is None:
        values["log_loss"] = np.full(n_groups, np.nan)
        notes["log_loss"] = [missing_score_reason] * n_groups
        notes["roc_auc"] = [missing_score_reason] * n_groups
    else:
        index = {label: i for i, label in enumerate(classes)}
        true_column = np.array([index[v] for v in y])
        p = np.clip(proba[np.arange(len(y)), true_column], _EPS, 1.0)
        values["log_loss"] = np.bincount(codes, weights=-np.log(p), minlength=n_groups) / n
    return GroupMetrics(values, notes)


def multiclass_roc_auc(
    y: np.ndarray, proba: np.ndarray, classes: list[object]
) -> tuple[float, str]:
    """One-vs-rest ROC AUC over all rows (scikit-learn's), or NaN with scikit-learn's reason."""
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import roc_auc_score

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedMetricWarning)
        try:
            value = float(roc_auc_score(y, proba, multi_class="ovr", labels=classes))
        except ValueError as exc:
            return float("nan"), str(exc)
    undefined = [w for w in caught if issubclass(w.category, UndefinedMetricWarning)]
    if undefined or value != value:
        return float("nan"), str(undefined[0].message) if undefined else "undefined on these rows"
    return value, ""


@_quiet
def regression_metrics(
    codes: np.ndarray, n_groups: int, y: np.ndarray, predicted: np.ndarray
) -> GroupMetrics:
    """MAE, RMSE, R² and MAPE per group."""
    import numpy as np

    n = np.bincount(codes, minlength=n_groups).astype(float)
    error = predicted - y
    values: dict[str, np.ndarray] = {
        "mae": np.bincount(codes, weights=np.abs(error), minlength=n_groups) / n,
        "rmse": np.sqrt(np.bincount(codes, weights=error**2, minlength=n_groups) / n),
    }
    notes: dict[str, list[str]] = {}
    mean = np.bincount(codes, weights=y, minlength=n_groups) / n
    total = np.bincount(codes, weights=(y - mean[codes]) ** 2, minlength=n_groups)
    residual = np.bincount(codes, weights=error**2, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1 - residual / total
    values["r2"], notes["r2"] = _mark(
        r2, (total <= 0) | (n < 2), "the target is constant (R² needs variance)", None
    )
    zeros = np.bincount(codes, weights=(y == 0).astype(float), minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.where(y == 0, 0.0, np.abs(error) / np.abs(np.where(y == 0, 1.0, y)))
    mape = np.bincount(codes, weights=ape, minlength=n_groups) / n
    values["mape"], notes["mape"] = _mark(
        mape, zeros > 0, "the target has zero values (MAPE divides by the target)", None
    )
    return GroupMetrics(values, notes)


def frame_of(metrics: GroupMetrics, names: tuple[str, ...]) -> pd.DataFrame:
    """The metric columns as a DataFrame (one row per group)."""
    import pandas as pd

    return pd.DataFrame({name: metrics.values[name] for name in names})


# The group-fairness summaries (mloop.evaluation.fairness); here so gate rules and
# reports name them without importing the fairness computation.
FAIRNESS_SUMMARIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
)
