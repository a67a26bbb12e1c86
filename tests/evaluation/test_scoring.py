"""One definition of model quality: a monitoring window's metrics equal ``evaluate`` on the
same rows (binary, multiclass, regression), and the champion comparison uses it too."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from sklearn import metrics as skm

from mloop.core.errors import InvalidInput
from mloop.evaluation import evaluate, score
from mloop.monitoring._scoring import metrics_of


class Replay:
    """A "model" that answers what the rows say it predicted (the prediction log's columns)."""

    def __init__(self, classes: list[Any] | None, proba_columns: list[str] | None) -> None:
        if classes is not None:
            self.classes_ = np.asarray(classes)
        self.proba_columns = proba_columns

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return X["prediction"].to_numpy()

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        assert self.proba_columns is not None
        if self.proba_columns == ["proba"]:
            p = X["proba"].to_numpy(dtype=float)
            return np.column_stack([1 - p, p])
        return X[self.proba_columns].to_numpy(dtype=float)


class Regressor(Replay):
    _estimator_type = "regressor"


def _evaluated(model: Any, rows: pd.DataFrame, task: str) -> dict[str, float]:
    result = evaluate(model, rows, target="label", task=task, log=False, plots=False)
    return {k: v for k, v in result.metrics.items() if not math.isnan(v)}


def _same(window: dict[str, float], evaluated: dict[str, float]) -> None:
    assert set(window) == set(evaluated)
    for name, value in evaluated.items():
        assert window[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


probability = hs.floats(0, 1, allow_nan=False).map(lambda p: round(p, 3))
binary_row = hs.tuples(hs.sampled_from([0, 1]), hs.sampled_from([0, 1]), probability)
quick = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@given(hs.lists(binary_row, min_size=1, max_size=60))
def test_a_binary_window_equals_evaluate_on_the_same_rows(
    rows: list[tuple[int, int, float]],
) -> None:
    frame = pd.DataFrame(rows, columns=["label", "prediction", "proba"])
    window = metrics_of(frame, "classification", [0, 1])
    _same(window, _evaluated(Replay([0, 1], ["proba"]), frame, "classification"))


@hs.composite
def multiclass_rows(draw: Any) -> pd.DataFrame:
    size = draw(hs.integers(1, 60))
    classes = ["a", "b", "c"]
    labels = draw(hs.lists(hs.sampled_from(classes), min_size=size, max_size=size))
    weights = draw(hs.lists(hs.tuples(*[hs.integers(1, 20)] * 3), min_size=size, max_size=size))
    proba = np.asarray(weights, dtype=float)
    proba /= proba.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(proba, columns=[f"proba_{c}" for c in classes])
    frame["prediction"] = np.asarray(classes)[proba.argmax(axis=1)]
    frame["label"] = labels
    return frame


@quick
@given(multiclass_rows())
def test_a_multiclass_window_equals_evaluate_on_the_same_rows(frame: pd.DataFrame) -> None:
    columns = ["proba_a", "proba_b", "proba_c"]
    window = metrics_of(frame, "classification", ["a", "b", "c"])
    _same(window, _evaluated(Replay(["a", "b", "c"], columns), frame, "classification"))


value = hs.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 2))


@quick
@given(hs.lists(hs.tuples(value, value), min_size=1, max_size=60))
def test_a_regression_window_equals_evaluate_on_the_same_rows(
    rows: list[tuple[float, float]],
) -> None:
    frame = pd.DataFrame(rows, columns=["label", "prediction"])
    window = metrics_of(frame, "regression", None)
    _same(window, _evaluated(Regressor(None, None), frame, "regression"))


def test_score_agrees_with_scikit_learn_and_leaves_undefined_metrics_out() -> None:
    rng = np.random.default_rng(5)
    y, p = rng.integers(0, 2, 500), rng.random(500)
    predicted = (p > 0.5).astype(int)
    found = score(y, predicted, p)
    assert found["precision"] == pytest.approx(skm.precision_score(y, predicted))
    assert found["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert found["pr_auc"] == pytest.approx(skm.average_precision_score(y, p))
    assert found["log_loss"] == pytest.approx(skm.log_loss(y, p))
    only_negatives = score([0, 0, 0], [0, 1, 0], [0.1, 0.7, 0.2])
    assert "roc_auc" not in only_negatives and only_negatives["accuracy"] == pytest.approx(2 / 3)
    assert score(["no", "yes", "no"], ["no", "no", "no"])["recall"] == 0.0  # "yes" is positive
    with pytest.raises(InvalidInput, match="y_true has 2 values but y_pred has 3"):
        score([0, 1], [0, 1, 1])


def test_the_moved_monitoring_names_still_work_with_a_deprecation_warning() -> None:
    from mloop import monitoring
    from mloop.evaluation.metrics import GREATER_IS_BETTER
    from mloop.monitoring import performance

    with pytest.warns(DeprecationWarning, match="use mloop.evaluation.score"):
        old = monitoring.performance_of([0, 1, 1], [0, 1, 0], [0.2, 0.8, 0.4])
    assert old == score([0, 1, 1], [0, 1, 0], [0.2, 0.8, 0.4])
    with pytest.warns(DeprecationWarning, match="mloop.evaluation.metrics.GREATER_IS_BETTER"):
        assert performance.GREATER_IS_BETTER is GREATER_IS_BETTER
    with pytest.warns(DeprecationWarning, match="task_of"):
        assert performance.infer_task([0.5, 1.7]) == "regression"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert score([1.0, 2.0], [1.5, 2.0], task="regression")["mae"] == 0.25
