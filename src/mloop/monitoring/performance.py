"""What is about windows in model performance: slices for root cause, and KPIs.

A window's metrics come from :func:`mloop.evaluation.score`, the one definition of model
quality (:mod:`mloop.monitoring._scoring` calls it on the labelled rows); this module
keeps the per-slice error rates a window is ranked on and the KPI calling convention.

>>> slice_metrics(labelled, ["origin"], "classification")
[{'column': 'origin', 'value': 'JFK', 'rows': 412, 'accuracy': 0.81}, ...]
"""

from __future__ import annotations

import importlib
import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.evaluation.scoring import score

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["call_kpi", "performance_of", "slice_metric", "slice_metrics"]


def performance_of(
    y_true: Any, y_pred: Any, proba: Any = None, task: str = "classification"
) -> dict[str, float]:
    """Deprecated: use :func:`mloop.evaluation.score` (this name goes in the next release).

    The metrics of a window's labelled rows, computed by the one scoring function.
    """
    warnings.warn(
        "mloop.monitoring.performance_of is deprecated; use mloop.evaluation.score "
        "(score(y_true, y_pred, proba, task=...)), the one definition of model quality.",
        DeprecationWarning,
        stacklevel=2,
    )
    return score(y_true, y_pred, proba, task=task)


# names that moved to mloop.evaluation, kept for one release
_MOVED = {
    "GREATER_IS_BETTER": ("mloop.evaluation.metrics", "GREATER_IS_BETTER"),
    "infer_task": ("mloop.evaluation.scoring", "task_of"),
    "check_task": ("mloop.evaluation.scoring", "check_task"),
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        module, attribute = _MOVED[name]
        warnings.warn(
            f"mloop.monitoring.performance.{name} is deprecated; use {module}.{attribute}.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
