"""Label types and predicted labels: int, string, bool and categorical targets on real data sets,
labels that agree with the model's own ``predict`` (ties included), and rows with missing features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mloop.core.errors import InvalidInput
from mloop.evaluation import Gate, evaluate, rules
from tests.evaluation.conftest import FEATURES, register


def _wine(kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """scikit-learn's wine set (3 classes) with its labels as ints, strings or a categorical."""
    data = load_wine(as_frame=True)
    frame = data.frame.copy()
    names = np.asarray(data.target_names)
    if kind == "str":
        frame["target"] = names[frame["target"]]
    elif kind == "category":
        frame["target"] = pd.Categorical(names[frame["target"]])
    train, test = train_test_split(frame, test_size=0.4, random_state=3, stratify=frame["target"])
    return train, test.reset_index(drop=True)


@pytest.mark.parametrize("kind", ["int", "str", "category"])
def test_multiclass_metrics_equal_scikit_learn_for_every_label_type(kind: str) -> None:
    train, test = _wine(kind)
    features = [c for c in train.columns if c != "target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(
        train[features], train["target"]
    )
    result = evaluate(model, test, target="target", log=False)
    y, predicted = test["target"], model.predict(test[features])
    proba = model.predict_proba(test[features])
    assert result.task == "classification" and len(result.classes) == 3
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    assert result.metrics["accuracy"] < 1.0  # a model that errs, so the metrics are informative
    for name, fn in (
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ):
        assert result.metrics[name] == pytest.approx(fn(y, predicted, average="macro")), name
    assert result.metrics["log_loss"] == pytest.approx(
        skm.log_loss(y, proba, labels=model.classes_)
    )
    assert result.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_)
    )
    assert result.confusion is not None
    assert int(result.confusion.to_numpy().trace()) == int((np.asarray(y) == predicted).sum())


def test_bool_labels_of_a_binary_classifier_on_real_data() -> None:
    """bool has two values, so a bool target is binary: its metrics equal scikit-learn's."""
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.assign(target=data.frame["target"].astype(bool))
    train, test = train_test_split(frame, test_size=0.3, random_state=1)
    features = [c for c in frame.columns if c != "target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.01)).fit(
        train[features], train["target"]
    )
    result = evaluate(model, test, target="target", log=False)
    y, predicted = test["target"], model.predict(test[features])
    assert result.pos_label is True or result.pos_label == np.True_
    assert result.metrics["precision"] == pytest.approx(skm.precision_score(y, predicted))
    assert result.metrics["recall"] == pytest.approx(skm.recall_score(y, predicted))
    assert result.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, model.predict_proba(test[features])[:, 1])
    )


def _knn() -> tuple[Any, pd.DataFrame]:
    data = load_breast_cancer(as_frame=True)
    train, test = train_test_split(data.frame, test_size=0.25, random_state=13)
    features = [c for c in data.frame.columns if c != "target"]
    model = KNeighborsClassifier(n_neighbors=4).fit(train[features], train["target"])
    return model, test.reset_index(drop=True)


def test_binary_labels_follow_predict_where_the_probability_is_exactly_one_half() -> None:
    """A 4-neighbour KNN gives many probabilities of exactly 0.5; predict() calls them negative."""
    model, test = _knn()
    features = list(model.feature_names_in_)
    proba = model.predict_proba(test[features])[:, 1]
    assert (proba == 0.5).sum() >= 5  # the case under test is present
    expected = skm.precision_score(test["target"], model.predict(test[features]))
    at_least_half = skm.precision_score(test["target"], proba >= 0.5)
    assert round(expected, 4) == 0.9457 and round(at_least_half, 4) == 0.9184
    result = evaluate(model, test, target="target", log=False)
    assert result.metrics["precision"] == pytest.approx(expected, abs=1e-12)
    assert result.threshold is None  # labels came from predict, not from a threshold


def test_an_explicit_threshold_counts_a_probability_equal_to_it_as_positive() -> None:
    model, test = _knn()
    features = list(model.feature_names_in_)
    proba = model.predict_proba(test[features])[:, 1]
    result = evaluate(model, test, target="target", threshold=0.5, log=False)
    assert result.metrics["precision"] == pytest.approx(
        skm.precision_score(test["target"], proba >= 0.5)
    )
    assert result.threshold == 0.5


def _with_gaps(test: pd.DataFrame) -> pd.DataFrame:
    broken = test.copy()
    broken.loc[broken.index[:3], "dep_delay"] = np.nan
    broken.loc[broken.index[5], "distance"] = np.nan
    return broken


def test_evaluate_on_missing_features_names_the_columns(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    with pytest.raises(InvalidInput) as refused:
        evaluate(good_model, _with_gaps(test), target="late", log=False)
    message = str(refused.value)
    assert "'dep_delay' (3 rows)" in message and "'distance' (1 rows)" in message
    assert isinstance(refused.value.__cause__, ValueError)  # scikit-learn's refusal, kept as cause


def test_a_model_that_accepts_missing_values_is_still_evaluated(
    split: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    train, test = split
    model = HistGradientBoostingClassifier(max_iter=20).fit(train[FEATURES], train["late"])
    broken = _with_gaps(test)
    result = evaluate(model, broken, target="late", log=False)
    assert result.metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(broken["late"], model.predict(broken[FEATURES]))
    )


def test_promote_with_a_gate_on_missing_features_names_the_columns(
    db_url: str, split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    import mloop

    _, test = split
    register(good_model, "delays", test[FEATURES].head())
    gate = Gate([rules.min_metric("roc_auc", 0.7)])
    with pytest.raises(InvalidInput, match=r"missing in columns .*'dep_delay' \(3 rows\)"):
        mloop.registry.promote("delays", 1, gate=gate, data=_with_gaps(test), target="late")
    assert mloop.registry.get_version("delays", 1).aliases == ()
