"""mloop.evaluate: metrics, slices, KPIs, baseline comparison, logging, undefined metrics, bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

import mloop
from mloop.core.errors import InvalidInput
from mloop.evaluation import KPI, EvaluationResult, Slice, evaluate
from mloop.store import get_artifacts
from tests.evaluation.conftest import FEATURES, cost_of_missed_delays, register
from tests.registry.models_for_tests import ThresholdModel

CLASSIFICATION_KEYS = [
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
]


def test_classification_metrics_are_plain_floats_equal_to_scikit_learn(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    result = evaluate(good_model, test, target="late", threshold=0.4, log=False)
    assert list(result.metrics) == CLASSIFICATION_KEYS
    assert all(type(v) is float for v in result.metrics.values())
    proba = good_model.predict_proba(test[FEATURES])[:, 1]
    y, predicted = test["late"], proba >= 0.4
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    assert result.metrics["f1"] == pytest.approx(skm.f1_score(y, predicted))
    assert result.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba))
    assert result.metrics["pr_auc"] == pytest.approx(skm.average_precision_score(y, proba))
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert result.metrics["brier"] == pytest.approx(skm.brier_score_loss(y, proba))
    assert result.undefined == {}
    assert result.threshold == 0.4 and result.pos_label == 1
    assert result.confusion is not None
    assert result.confusion.loc["1", "1"] == int((predicted & (y == 1)).sum())
    assert result.calibration is not None and result.calibration["count"].sum() == len(test)


def test_regression_metrics_and_an_undefined_mape(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = split
    model = LinearRegression().fit(train[["distance"]], train["dep_delay"])
    result = evaluate(model, test[["distance", "dep_delay"]], target="dep_delay", log=False)
    assert result.task == "regression"
    assert list(result.metrics) == ["mae", "rmse", "r2", "mape"]
    predicted = model.predict(test[["distance"]])
    assert result.metrics["mae"] == pytest.approx(
        skm.mean_absolute_error(test["dep_delay"], predicted)
    )
    assert result.metrics["r2"] == pytest.approx(skm.r2_score(test["dep_delay"], predicted))
    # real departure delays include zeros: MAPE would divide by zero, so it is marked undefined
    assert (test["dep_delay"] == 0).any()
    assert math.isnan(result.metrics["mape"])
    assert "zero" in result.undefined["mape"]


def test_slices_are_worst_first_with_counts_and_match_each_subset(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    result = evaluate(good_model, test, target="late", slices=["origin", "carrier"], log=False)
    slices = result.slices
    assert result.primary_metric == "roc_auc"
    assert set(slices["slice"]) == {"origin", "carrier"}
    for name in ("origin", "carrier"):
        part = slices[slices["slice"] == name]
        assert part["count"].sum() == len(test)
    defined = slices["roc_auc"].dropna().to_numpy()
    assert (np.diff(defined) >= 0).all()  # worst (lowest AUC) first
    jfk = slices[(slices["slice"] == "origin") & (slices["value"] == "JFK")].iloc[0]
    rows = test["origin"] == "JFK"
    proba = good_model.predict_proba(test.loc[rows, FEATURES])[:, 1]
    assert jfk["count"] == rows.sum()
    assert jfk["roc_auc"] == pytest.approx(skm.roc_auc_score(test.loc[rows, "late"], proba))
    assert jfk["positive_rate"] == pytest.approx(test.loc[rows, "late"].mean())


def test_numeric_slices_are_binned_and_crosses_and_missing_values_kept(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    data = test.copy()
    data.loc[data.index[:25], "carrier"] = None
    result = evaluate(
        good_model,
        data,
        target="late",
        slices=[
            Slice("distance", bins=[0, 500, 1500, 5000]),
            ("origin", "month"),
            "carrier",
            "hour",
        ],
        log=False,
    )
    distance = result.slices[result.slices["slice"] == "distance"]
    assert len(distance) == 3 and distance["count"].sum() == len(data)
    cross = result.slices[result.slices["slice"] == "origin × month"]
    assert len(cross) == 36 and "JFK | 7" in set(cross["value"])
    carrier = result.slices[result.slices["slice"] == "carrier"]
    assert carrier.loc[carrier["value"] == "<missing>", "count"].item() == 25
    hour = result.slices[result.slices["slice"] == "hour"]
    assert 1 < len(hour) <= 20  # 19 distinct hours: one slice each (not binned)


def test_kpis_are_computed_overall_per_slice_and_logged(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    seen: dict[str, Any] = {}

    def mean_score(
        y_true: pd.Series, y_pred: pd.Series, data: pd.DataFrame, y_score: pd.Series
    ) -> float:
        seen["index"] = y_score.index.equals(data.index)
        return float(y_score.mean())

    kpis = {"cost": KPI(cost_of_missed_delays, greater_is_better=False), "mean_score": mean_score}
    with mloop.start_run() as run:
        result = evaluate(
            good_model, test, target="late", slices=["origin"], kpis=kpis, plots=False
        )
    predicted = (good_model.predict_proba(test[FEATURES])[:, 1] >= 0.5).astype(int)
    expected = cost_of_missed_delays(test["late"], pd.Series(predicted, index=test.index), test)
    assert result.kpis["cost"] == expected
    assert seen["index"] is True
    assert result.slices["cost"].sum() == pytest.approx(expected)
    logged = mloop.get_run(run.info.run_id).data.metrics
    assert logged["cost"] == expected
    assert logged["roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    assert "precision" in logged


def test_evaluation_logs_result_slices_and_plots_to_the_active_run(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    with mloop.start_run() as run:
        result = evaluate(good_model, test, target="late", slices=["origin"])
    assert result.run_id == run.info.run_id
    files = get_artifacts().list(f"runs/{run.info.run_id}/artifacts/evaluation")
    names = {f.rsplit("/", 1)[-1] for f in files}
    assert {
        "result.json",
        "slices.csv",
        "roc_curve.png",
        "confusion_matrix.png",
        "slices.png",
    } <= names
    stored = json.loads(
        get_artifacts().get_bytes(f"runs/{run.info.run_id}/artifacts/evaluation/result.json")
    )
    again = EvaluationResult.from_dict(stored)
    assert again.metrics == pytest.approx(result.metrics)
    assert again.slices["value"].tolist() == result.slices["value"].tolist()
    assert again.confusion is not None and again.confusion.equals(result.confusion)
    assert (
        get_artifacts()
        .get_bytes(f"runs/{run.info.run_id}/artifacts/evaluation/roc_curve.png")
        .startswith(b"\x89PNG")
    )


def test_comparison_against_a_registered_baseline_shows_the_differences(
    db_url: str, split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any, weak_model: Any
) -> None:
    _, test = split
    register(weak_model, "delays", test[["month"]].head())
    mloop.registry.set_alias("delays", "champion", 1)
    register(good_model, "delays", test[FEATURES].head())
    result = evaluate(
        "models:/delays/2",
        test,
        target="late",
        kpis={"cost": KPI(cost_of_missed_delays, greater_is_better=False)},
        baseline="models:/delays@champion",
        log=False,
    )
    comparison = result.comparison.set_index("metric")
    weak_auc = skm.roc_auc_score(test["late"], weak_model.predict_proba(test[["month"]])[:, 1])
    assert comparison.loc["roc_auc", "baseline"] == pytest.approx(weak_auc)
    assert comparison.loc["roc_auc", "difference"] == pytest.approx(
        result.metrics["roc_auc"] - weak_auc
    )
    assert comparison.loc["roc_auc", "improved"] == True  # noqa: E712
    assert comparison.loc["log_loss", "greater_is_better"] == False  # noqa: E712
    assert comparison.loc["log_loss", "improved"] == True  # noqa: E712 - lower loss is better
    assert "cost" in comparison.index
    assert result.baseline is not None and result.baseline["model_version"] == "delays/1"
    assert result.model_version == "delays/2"


def test_single_class_data_marks_ranking_metrics_undefined_with_a_reason(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    on_time = test[test["late"] == 0]
    result = evaluate(good_model, on_time, target="late", log=False)
    assert math.isnan(result.metrics["roc_auc"]) and "only negative" in result.undefined["roc_auc"]
    assert math.isnan(result.metrics["pr_auc"]) and "no positive" in result.undefined["pr_auc"]
    assert math.isnan(result.metrics["recall"]) and "no positive" in result.undefined["recall"]
    assert not math.isnan(result.metrics["log_loss"])  # defined on one class
    with pytest.raises(InvalidInput, match=r"roc_auc.*undefined.*only negative"):
        evaluate(good_model, on_time, target="late", metrics=["roc_auc"], log=False)


def test_a_model_without_probabilities_has_no_probability_metrics(
    split: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, test = split
    model = ThresholdModel("dep_delay", 15)
    result = evaluate(model, test, target="late", log=False)
    for name in ("roc_auc", "pr_auc", "log_loss", "brier"):
        assert math.isnan(result.metrics[name])
        assert "no predict_proba" in result.undefined[name]
    assert result.metrics["accuracy"] == pytest.approx(
        ((test["dep_delay"] > 15) == test["late"]).mean()
    )
    with pytest.raises(InvalidInput, match=r"'roc_auc' is undefined .*no predict_proba"):
        evaluate(model, test, target="late", metrics=["roc_auc"], log=False)
    with pytest.raises(InvalidInput, match=r"threshold=0\.3 needs probabilities"):
        evaluate(model, test, target="late", threshold=0.3, log=False)


def test_decision_scores_rank_but_do_not_pretend_to_be_probabilities(
    split: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = split
    model = LinearSVC().fit(train[FEATURES], train["late"])
    result = evaluate(model, test, target="late", log=False)
    scores = model.decision_function(test[FEATURES])
    assert result.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(test["late"], scores))
    assert (
        math.isnan(result.metrics["log_loss"])
        and "not probabilities" in result.undefined["log_loss"]
    )


def test_multiclass_targets_use_macro_averages() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = np.where(X["a"] > 0.5, "high", np.where(X["a"] < -0.5, "low", "mid"))
    model = LogisticRegression().fit(X, y)
    result = evaluate(model, X.assign(y=y), target="y", slices=["b"], log=False)
    predicted = model.predict(X)
    assert result.metrics["f1"] == pytest.approx(skm.f1_score(y, predicted, average="macro"))
    assert result.metrics["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, model.predict_proba(X), multi_class="ovr")
    )
    assert list(result.confusion.columns) == ["high", "low", "mid"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "lat"}, r"target column 'lat' is not in the data\. Did you mean 'late'\?"),
        ({"target": None}, "target is missing"),
        (
            {"target": "late", "slices": ["orign"]},
            r"slice column 'orign' .* Did you mean 'origin'\?",
        ),
        ({"target": "late", "threshold": 1.5}, "threshold 1.5 is not valid"),
        (
            {"target": "late", "task": "clasification"},
            r"task 'clasification' is unknown.*'classification'",
        ),
        ({"target": "late", "metrics": ["auc"]}, "metric 'auc' is not computed"),
        ({"target": "late", "kpis": {"cost": 3}}, "KPI 'cost' is a int"),
        ({"target": "late", "slices": [Slice("origin", bins=3)]}, "not numeric"),
        ({"target": "late", "sensitive": ["gender"]}, "sensitive column 'gender'"),
    ],
)
def test_bad_input_gets_one_clear_error(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any, kwargs: dict[str, Any], message: str
) -> None:
    _, test = split
    with pytest.raises(InvalidInput, match=message):
        evaluate(good_model, test, log=False, **kwargs)


def test_missing_labels_and_models_without_predict_are_refused(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    holes = test.copy()
    holes.loc[holes.index[:3], "late"] = np.nan
    with pytest.raises(InvalidInput, match="'late' has 3 missing values"):
        evaluate(good_model, holes, target="late", log=False)
    with pytest.raises(InvalidInput, match="has no predict method"):
        evaluate(object(), test, target="late", log=False)
    with pytest.raises(InvalidInput, match="not a model URI"):
        evaluate("delays", test, target="late", log=False)
    with pytest.raises(InvalidInput, match=r"lacks columns the model .* needs: dep_delay"):
        evaluate(good_model, test.drop(columns=["dep_delay"]), target="late", log=False)


def test_a_failing_kpi_names_itself(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split

    def broken(y_true: pd.Series, y_pred: pd.Series, data: pd.DataFrame) -> float:
        return float(data["no_such_column"].sum())

    with pytest.raises(InvalidInput, match="KPI 'broken' raised KeyError"):
        evaluate(good_model, test, target="late", kpis={"broken": broken}, log=False)
    with pytest.raises(InvalidInput, match="KPI 'text' returned 'high'"):
        evaluate(good_model, test, target="late", kpis={"text": lambda *a: "high"}, log=False)


def test_data_can_be_a_registered_dataset_or_a_parquet_file(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    version = mloop.data.register("flights-test", test)
    by_ref = evaluate(good_model, "flights-test@1", target="late", log=False)
    test.to_parquet("test.parquet")
    by_path = evaluate(good_model, "test.parquet", target="late", log=False)
    direct = evaluate(good_model, test, target="late", log=False)
    assert by_ref.metrics == pytest.approx(direct.metrics) == by_path.metrics
    assert by_ref.dataset == version.key == "flights-test@1"


def test_html_report_holds_metrics_slices_and_embedded_plots(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    result = evaluate(
        good_model, test, target="late", slices=["origin"], sensitive="origin", log=False
    )
    html = result.to_html("report.html")
    assert "<h3>Metrics</h3>" in html and "roc_auc" in html and "JFK" in html
    assert html.count("data:image/png;base64,") >= 4
    assert "demographic_parity_difference" in html
    assert "http://" not in html and "https://" not in html


def test_fairness_is_refused_for_a_regression(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = split
    model = LinearRegression().fit(train[["distance"]], train["dep_delay"])
    with pytest.raises(
        InvalidInput, match="sensitive= measures group fairness of a binary classifier"
    ):
        evaluate(
            model,
            test[["distance", "dep_delay", "origin"]],
            target="dep_delay",
            sensitive="origin",
            log=False,
        )
