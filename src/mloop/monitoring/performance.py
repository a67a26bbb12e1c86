"""Model performance from logged predictions and late labels: metrics, KPIs, slices.

In production the predictions are already in the log; when ground truth arrives (often
days later) it is joined by request id and the metrics of each window are computed on
the labelled rows. The metric names are those of :mod:`mloop.evaluation`.

>>> performance_of(labels, frame["prediction"], frame.get("proba"), task="classification")
{'accuracy': 0.81, 'precision': 0.55, 'recall': 0.31, 'f1': 0.4, 'roc_auc': 0.74, ...}
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "GREATER_IS_BETTER",
    "call_kpi",
    "infer_task",
    "performance_of",
    "slice_metrics",
]

GREATER_IS_BETTER = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "log_loss": False,
    "brier": False,
    "mae": False,
    "rmse": False,
    "r2": True,
    "mape": False,
}
TASKS = ("classification", "regression")


def infer_task(labels: Any, proba: Any = None) -> str:
    """``classification`` for text, booleans, or few whole-number values; else ``regression``."""
    import numpy as np
    import pandas as pd

    if proba is not None:
        return "classification"
    series = pd.Series(labels).dropna()
    if series.empty:
        return "classification"
    if series.dtype.kind in "bOU" or not pd.api.types.is_numeric_dtype(series):
        return "classification"
    values = series.to_numpy(dtype=float)
    whole = bool(np.all(values == np.round(values)))
    return "classification" if whole and series.nunique() <= 20 else "regression"


def check_task(task: Any) -> str:
    if task not in TASKS:
        raise InvalidInput(f"task = {task!r} is not valid; use 'classification' or 'regression'.")
    return str(task)


def performance_of(
    y_true: Any, y_pred: Any, proba: Any = None, task: str = "classification"
) -> dict[str, float]:
    """The window's metrics on labelled rows (metrics that cannot be defined are left out).

    Classification: ``accuracy``, ``precision``, ``recall``, ``f1`` (binary: positive
    class = the larger label; multiclass: macro averages), and with a positive-class
    probability ``roc_auc``, ``log_loss`` and ``brier`` when both classes are present.
    Regression: ``mae``, ``rmse``, ``r2`` and ``mape`` (when no label is 0).
    """
    import numpy as np
    from sklearn import metrics as skm

    truth = np.asarray(y_true)
    predicted = np.asarray(y_pred)
    if truth.size == 0:
        return {}
    result: dict[str, float] = {}
    if check_task(task) == "regression":
        t, p = truth.astype(float), predicted.astype(float)
        result["mae"] = float(np.mean(np.abs(t - p)))
        result["rmse"] = float(np.sqrt(np.mean((t - p) ** 2)))
        if truth.size > 1 and np.var(t) > 0:
            result["r2"] = float(skm.r2_score(t, p))
        if np.all(t != 0):
            result["mape"] = float(np.mean(np.abs((t - p) / t)))
        return result
    truth, predicted = _same_kind(truth, predicted)
    classes = np.unique(np.concatenate([truth, predicted]))
    result["accuracy"] = float(np.mean(truth == predicted))
    if classes.size <= 2:
        positive = classes.max() if classes.size else 1
        kwargs: dict[str, Any] = {"pos_label": positive, "zero_division": 0}
        average = "binary"
    else:
        kwargs, average = {"zero_division": 0}, "macro"
    result["precision"] = float(skm.precision_score(truth, predicted, average=average, **kwargs))
    result["recall"] = float(skm.recall_score(truth, predicted, average=average, **kwargs))
    result["f1"] = float(skm.f1_score(truth, predicted, average=average, **kwargs))
    if proba is not None and np.unique(truth).size == 2:
        scores = np.clip(np.asarray(proba, dtype=float), 1e-15, 1 - 1e-15)
        positive_truth = (truth == np.unique(truth).max()).astype(int)
        result["roc_auc"] = float(skm.roc_auc_score(positive_truth, scores))
        result["log_loss"] = float(skm.log_loss(positive_truth, scores, labels=[0, 1]))
        result["brier"] = float(np.mean((scores - positive_truth) ** 2))
    return result


def _same_kind(truth: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions comparable (``1`` and ``1.0`` and ``True`` are one class)."""

    if truth.dtype.kind in "biuf" and predicted.dtype.kind in "biuf":
        return truth.astype(float), predicted.astype(float)
    return truth.astype(str), predicted.astype(str)


def slice_metric(task: str) -> str:
    """The metric slices are compared on: accuracy (classification) or mae (regression)."""
    return "mae" if task == "regression" else "accuracy"


def slice_metrics(
    frame: pd.DataFrame,
    columns: list[str],
    task: str,
    edges: Mapping[str, list[float]] | None = None,
    min_rows: int = 30,
    max_values: int = 50,
) -> list[dict[str, Any]]:
    """The slice metric of every value (or numeric bin) of each column, on labelled rows.

    ``frame`` has ``label`` and ``prediction``; numeric columns are cut at ``edges``
    (their reference quartiles). Slices under ``min_rows`` rows are left out.
    """
    import numpy as np
    import pandas as pd

    metric = slice_metric(task)
    truth, predicted = frame["label"].to_numpy(), frame["prediction"].to_numpy()
    if task == "regression":
        hits = np.abs(truth.astype(float) - predicted.astype(float))
    else:
        truth, predicted = _same_kind(truth, predicted)
        hits = (truth == predicted).astype(float)
    error = pd.Series(hits, index=frame.index)
    rows: list[dict[str, Any]] = []
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column]
        cuts = (edges or {}).get(column)
        if cuts is not None:
            keys = _bin_keys(values, cuts)
        else:
            keys = values.astype("string").fillna("(null)")
        grouped = error.groupby(keys.to_numpy(), observed=True, sort=False).agg(["mean", "size"])
        grouped = grouped[grouped["size"] >= min_rows].sort_values("size", ascending=False)
        for key, row in grouped.head(max_values).iterrows():
            rows.append(
                {
                    "column": column,
                    "value": str(key),
                    "rows": int(row["size"]),
                    metric: float(row["mean"]),
                }
            )
    return rows


def _bin_keys(values: pd.Series, cuts: list[float]) -> pd.Series:
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    index = np.searchsorted(np.asarray(cuts, float), numbers, side="right")
    bounds = [-math.inf, *cuts, math.inf]
    labels = np.array(
        [f"[{_short(bounds[i])}, {_short(bounds[i + 1])})" for i in range(len(bounds) - 1)],
        dtype=object,
    )
    keys = labels[index]
    keys[np.isnan(numbers)] = "(null)"
    return pd.Series(keys, index=values.index)


def _short(value: float) -> str:
    return str(value) if math.isinf(value) else f"{value:.4g}"


def call_kpi(
    name: str, fn: Callable[..., Any], frame: pd.DataFrame, labelled: pd.DataFrame | None
) -> float | None:
    """Run a KPI: ``fn(window)`` on every row, or ``fn(y_true, y_pred, data)`` on labelled rows.

    A KPI written for :func:`mloop.evaluation.evaluate` (three arguments, or a ``KPI``
    object) works unchanged; it is None while the window has no labels.
    """
    fn = getattr(fn, "fn", fn)
    try:
        arity = len(
            [
                p
                for p in inspect.signature(fn).parameters.values()
                if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        )
    except (TypeError, ValueError):
        arity = 1
    try:
        if arity >= 3:
            if labelled is None or labelled.empty:
                return None
            value = fn(labelled["label"], labelled["prediction"], labelled)
        else:
            value = fn(frame)
    except Exception as exc:
        raise InvalidInput(
            f"KPI {name!r} raised {type(exc).__name__}: {exc}. A KPI is fn(window) on every row "
            "or fn(y_true, y_pred, data) on labelled rows, and returns a number."
        ) from exc
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"KPI {name!r} returned {value!r}; return a number.") from None
    return None if math.isnan(number) else number
