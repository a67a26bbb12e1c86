"""Explanations: permutation importance (scikit-learn's), SHAP when installed, one row at a time."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression

from mloop.core.errors import ConfigError, InvalidInput
from mloop.evaluation import evaluate, explain, explain_row
from tests.evaluation.conftest import FEATURES
from tests.registry.models_for_tests import ThresholdModel


def test_permutation_importance_equals_scikit_learns_on_a_sklearn_model(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    rows = test[[*FEATURES, "late"]].head(1500)
    found = explain(good_model, rows, target="late", n_repeats=3, random_state=4)
    reference = permutation_importance(
        good_model, rows[FEATURES], rows["late"], scoring="roc_auc", n_repeats=3, random_state=4
    )
    expected = dict(zip(FEATURES, reference.importances_mean, strict=True))
    got = dict(zip(found.importances["feature"], found.importances["importance"], strict=True))
    assert got == pytest.approx(expected)
    assert found.scoring == "roc_auc" and found.method == "permutation"
    assert found.importances["feature"].iloc[0] == "dep_delay"  # the departure delay matters most


def test_a_feature_the_model_never_reads_has_zero_importance() -> None:
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"x": rng.random(400), "noise": rng.random(400)})
    data["y"] = (data["x"] > 0.5).astype(int)
    found = explain(ThresholdModel("x", 0.5), data, target="y", n_repeats=4)
    table = found.importances.set_index("feature")
    assert found.scoring == "accuracy"  # no probabilities: accuracy
    assert table.loc["noise", "importance"] == 0.0
    assert table.loc["x", "importance"] > 0.3


def test_regression_importance_is_the_rise_in_rmse() -> None:
    rng = np.random.default_rng(2)
    data = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    data["y"] = 3 * data["a"] + 0.1 * data["b"]
    model = LinearRegression().fit(data[["a", "b"]], data["y"])
    found = explain(model, data, target="y")
    assert found.scoring == "rmse"
    assert found.importances["feature"].tolist() == ["a", "b"]
    assert found.importances["importance"].iloc[0] > 1.0


def test_row_contributions_of_a_linear_model_are_exact() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(
        {"a": rng.normal(size=200), "b": rng.normal(size=200), "c": rng.normal(size=200)}
    )
    y = 2 * X["a"] - X["b"] + 0.5 * X["c"] + 1
    model = LinearRegression().fit(X, y)
    reference = X.iloc[[5]]
    row = X.iloc[17]
    found = explain_row(model, row, background=reference)
    expected = model.coef_ * (row.to_numpy() - reference.iloc[0].to_numpy())
    assert found.contributions.reindex(["a", "b", "c"]).to_numpy() == pytest.approx(expected)
    assert found.base_value == pytest.approx(model.predict(reference)[0])
    assert found.prediction == pytest.approx(model.predict(X.iloc[[17]])[0])
    assert list(found.to_frame().columns) == ["feature", "value", "contribution"]


def test_row_contributions_of_a_classifier_add_up_to_its_probability(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    train, test = split
    row = test.iloc[3]
    found = explain_row(good_model, row, background=train, target="late", n_permutations=32)
    probability = good_model.predict_proba(test[FEATURES].iloc[[3]])[0, 1]
    assert found.prediction == pytest.approx(probability)
    assert found.base_value + found.contributions.sum() == pytest.approx(probability)
    assert found.output == "probability of 1"
    assert set(found.contributions.index) == set(FEATURES)


def test_evaluate_can_include_the_importance(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    result = evaluate(good_model, test.head(1000), target="late", explain=True, log=False)
    assert result.importance is not None
    assert result.importance.importances["feature"].iloc[0] == "dep_delay"
    assert hasattr(result.importance.plot(), "savefig")


def test_shap_without_the_package_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap now raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'mloop\[shap\]'"):
        explain(good_model, test, target="late", method="shap")


def test_shap_importance_ranks_the_used_feature_first() -> None:
    pytest.importorskip("shap", reason="the shap extra is not installed")
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X["a"] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    found = explain(model, X.assign(y=y), target="y", method="shap")
    assert found.method == "shap"
    assert found.importances["feature"].iloc[0] == "a"


def test_explanation_input_errors(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    train, test = split
    with pytest.raises(InvalidInput, match="method 'lime' is unknown"):
        explain(good_model, test, target="late", method="lime")
    with pytest.raises(
        InvalidInput, match=r"scoring 'auc' is not a classification metric\. Did you mean"
    ):
        explain(good_model, test, target="late", scoring="auc")
    with pytest.raises(InvalidInput, match="row has 2 rows"):
        explain_row(good_model, test.head(2), background=train)
    with pytest.raises(InvalidInput, match="missing: dep_delay"):
        explain_row(good_model, test.iloc[0].drop("dep_delay"), background=train)
