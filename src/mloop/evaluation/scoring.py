"""``score``: the one definition of model quality, from true values and predictions.

Everything that says how good a model is calls it or computes the same groups with
:mod:`mloop.evaluation.metrics`: :func:`mloop.evaluate` (and so gates and ``promote``),
the windows of :class:`mloop.monitoring.Monitor`, a reference's baseline metrics, and the
retraining loop's champion/challenger comparison. One ``roc_auc``, one positive class,
one rule for a window with a single class.

>>> score([0, 1, 1, 0], [0, 1, 0, 0], proba=[0.2, 0.9, 0.4, 0.3])
{'accuracy': 0.75, 'precision': 1.0, 'recall': 0.5, 'f1': 0.666..., 'roc_auc': 1.0, ...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.evaluation import metrics as m
from mloop.evaluation._inputs import as_labels

if TYPE_CHECKING:
    import numpy as np

__all__ = ["TASKS", "check_task", "score", "task_of"]

TASKS = ("classification", "regression")
_MAX_CLASSES = 20


def check_task(task: Any) -> str:
    """``task`` when it is ``classification`` or ``regression``."""
    if task not in TASKS:
        raise InvalidInput(f"task = {task!r} is not valid; use 'classification' or 'regression'.")
    return str(task)


def task_of(labels: Any, proba: Any = None) -> str:
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
    return "classification" if whole and series.nunique() <= _MAX_CLASSES else "regression"


def score(
    y_true: Any,
    y_pred: Any,
    proba: Any = None,
    *,
    task: str | None = None,
    classes: list[Any] | None = None,
    pos_label: Any = None,
) -> dict[str, float]:
    """The metrics of ``y_pred`` against ``y_true``; metrics undefined on these rows are left out.

    Args:
        y_true: the true labels or values.
        y_pred: the predicted labels or values (a classifier's own ``predict``).
        proba: binary: the positive class's probability per row; multiclass: the
            probability matrix, one column per class of ``classes``.
        task: ``classification`` or ``regression`` (inferred from the labels otherwise).
        classes: every class the model knows, in its order (default: the labels seen,
            sorted). Two classes (or one seen of 0/1, False/True) make a binary task.
        pos_label: the positive class of a binary task (default: the second class).

    Classification: ``accuracy``, ``precision``, ``recall``, ``f1`` (binary: of the
    positive class; multiclass: macro averages over the classes present), and with
    probabilities ``roc_auc``, ``pr_auc``, ``log_loss``, ``brier`` (binary) or
    ``roc_auc`` (one-vs-rest) and ``log_loss`` (multiclass). Regression: ``mae``,
    ``rmse``, ``r2`` and ``mape``. A metric that needs what the rows lack (both classes
    for ROC AUC, a non-zero target for MAPE) is left out, never a made-up number.

    Raises:
        InvalidInput: the lengths differ, or ``proba`` does not fit the classes.
    """
    import numpy as np

    truth, predicted = as_labels(_flat(y_true)), as_labels(_flat(y_pred))
    if len(truth) != len(predicted):
        raise InvalidInput(
            f"y_true has {len(truth):,} values but y_pred has {len(predicted):,}; give one "
            "prediction per true value."
        )
    if len(truth) == 0:
        return {}
    task = check_task(task) if task is not None else task_of(truth, proba)
    codes = np.zeros(len(truth), dtype=np.int64)
    if task == "regression":
        found = m.regression_metrics(codes, 1, truth.astype(float), predicted.astype(float))
        return _defined(found, m.REGRESSION)
    truth, predicted, known = _comparable(truth, predicted, classes)
    if len(known) <= 2:
        known = _pair(known)
        positive = _comparable_value(pos_label, known) if pos_label is not None else known[1]
        if positive not in known:
            raise InvalidInput(f"pos_label {pos_label!r} is not one of the classes {known}.")
        scores = None if proba is None else _vector(proba, len(truth))
        found = m.binary_metrics(
            codes, 1, truth == positive, predicted == positive, scores, scores is not None
        )
        return _defined(found, m.BINARY)
    matrix = None if proba is None else _matrix(proba, len(truth), len(known))
    found = m.multiclass_metrics(codes, 1, truth, predicted, matrix, known)
    if matrix is not None:
        found.values["roc_auc"][0], _ = m.multiclass_roc_auc(truth, matrix, known)
    return _defined(found, m.MULTICLASS)


def _flat(values: Any) -> np.ndarray:
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.Series):
        return as_labels(values)
    return np.asarray(values).reshape(-1)


def _comparable(
    truth: np.ndarray, predicted: np.ndarray, classes: list[Any] | None
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Labels, predictions and classes of one kind: ``1``, ``1.0`` and ``True`` are one class."""
    import numpy as np

    given = list(classes) if classes is not None else None
    known: list[Any] | None
    numeric = truth.dtype.kind in "biuf" and predicted.dtype.kind in "biuf"
    if given is not None:
        numeric = numeric and all(isinstance(c, int | float | np.number) for c in given)
    if numeric:
        truth, predicted = truth.astype(float), predicted.astype(float)
        known = [float(c) for c in given] if given is not None else None
    else:
        truth, predicted = truth.astype(str), predicted.astype(str)
        known = [str(c) for c in given] if given is not None else None
    if known is None:
        known = sorted(set(np.unique(truth).tolist()) | set(np.unique(predicted).tolist()))
    else:
        seen = set(np.unique(truth).tolist()) | set(np.unique(predicted).tolist())
        known = known + sorted(seen - set(known))
    return truth, predicted, known


def _comparable_value(value: Any, known: list[Any]) -> Any:
    return float(value) if known and isinstance(known[0], float) else str(value)


def _pair(known: list[Any]) -> list[Any]:
    """Two classes: one seen class of 0/1 gets its partner, as a binary model has both."""
    if len(known) == 2:
        return known
    if known in ([0.0], [1.0]):
        return [0.0, 1.0]
    if known == ["False"] or known == ["True"]:
        return ["False", "True"]
    only = known[0] if known else "(none)"
    return [f"not {only}", only]


def _vector(proba: Any, rows: int) -> np.ndarray:
    import numpy as np

    values = np.asarray(proba, dtype=float)
    if values.ndim == 2 and values.shape[1] == 2:
        values = values[:, 1]
    values = values.reshape(-1)
    if len(values) != rows:
        raise InvalidInput(
            f"proba has {len(values):,} values for {rows:,} rows; give the positive class's "
            "probability per row."
        )
    return values


def _matrix(proba: Any, rows: int, columns: int) -> np.ndarray:
    import numpy as np

    values = np.asarray(proba, dtype=float)
    if values.shape != (rows, columns):
        raise InvalidInput(
            f"proba has shape {values.shape}; a multiclass task needs one row per value and one "
            f"column per class ({rows}, {columns})."
        )
    return values


def _defined(found: m.GroupMetrics, names: tuple[str, ...]) -> dict[str, float]:
    import math

    values = {name: float(found.values[name][0]) for name in names}
    return {name: value for name, value in values.items() if not math.isnan(value)}
