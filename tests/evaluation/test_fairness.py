"""Fairness: per-group rates and summaries, checked against values worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mloop.core.errors import InvalidInput
from mloop.evaluation import evaluate, fairness
from tests.registry.models_for_tests import ThresholdModel

# By hand, group a: 4 rows, predicted positive 2 -> selection 1/2; TP 1, FN 1, FP 1, TN 1
# -> TPR 1/2, FPR 1/2, accuracy 1/2. Group b: 6 rows, predicted positive 2 -> selection 1/3;
# TP 1, FN 1, FP 1, TN 3 -> TPR 1/2, FPR 1/4, accuracy 4/6.
# Demographic parity difference 1/2 - 1/3 = 1/6, ratio (1/3)/(1/2) = 2/3;
# equalized odds difference max(|1/2 - 1/2|, |1/2 - 1/4|) = 1/4.
HAND = pd.DataFrame(
    {
        "group": list("aaaabbbbbb"),
        "y": [1, 1, 0, 0, 1, 0, 0, 0, 0, 1],
        "x": [0.9, 0.1, 0.8, 0.2, 0.9, 0.7, 0.1, 0.2, 0.3, 0.4],
    }
)
PREDICTED = [1, 0, 1, 0, 1, 1, 0, 0, 0, 0]  # x > 0.5


def test_rates_and_summaries_match_the_hand_computation() -> None:
    found = fairness(None, HAND, target="y", sensitive="group", predictions=PREDICTED)
    table = found.by_group.set_index("group")
    assert table.loc["a", "selection_rate"] == pytest.approx(1 / 2)
    assert table.loc["b", "selection_rate"] == pytest.approx(1 / 3)
    assert table.loc["a", "tpr"] == pytest.approx(1 / 2)
    assert table.loc["b", "tpr"] == pytest.approx(1 / 2)
    assert table.loc["a", "fpr"] == pytest.approx(1 / 2)
    assert table.loc["b", "fpr"] == pytest.approx(1 / 4)
    assert table.loc["a", "accuracy"] == pytest.approx(1 / 2)
    assert table.loc["b", "accuracy"] == pytest.approx(4 / 6)
    assert table["count"].tolist() == [4, 6]
    assert found.demographic_parity_difference == pytest.approx(1 / 6)
    assert found.demographic_parity_ratio == pytest.approx(2 / 3)
    assert found.equalized_odds_difference == pytest.approx(1 / 4)
    assert found.undefined == {}


def test_a_model_gives_the_same_table_as_its_predictions() -> None:
    by_model = fairness(ThresholdModel("x", 0.5), HAND, target="y", sensitive="group")
    by_predictions = fairness(None, HAND, target="y", sensitive="group", predictions=PREDICTED)
    pd.testing.assert_frame_equal(by_model.by_group, by_predictions.by_group)
    result = evaluate(ThresholdModel("x", 0.5), HAND, target="y", sensitive=["group"], log=False)
    assert result.fairness["group"].demographic_parity_difference == pytest.approx(1 / 6)


def test_a_group_without_positives_has_an_undefined_tpr_left_out_of_the_gap() -> None:
    # group c: two negatives, one predicted positive -> TPR undefined, FPR 1/2
    data = pd.concat(
        [HAND, pd.DataFrame({"group": ["c", "c"], "y": [0, 0], "x": [0.9, 0.1]})],
        ignore_index=True,
    )
    found = fairness(None, data, target="y", sensitive="group", predictions=[*PREDICTED, 1, 0])
    table = found.by_group.set_index("group")
    assert math.isnan(table.loc["c", "tpr"])
    assert table.loc["c", "fpr"] == pytest.approx(1 / 2)
    # TPR gap over a, b: 0; FPR gap over a, b, c: 1/2 - 1/4
    assert found.equalized_odds_difference == pytest.approx(1 / 4)
    assert any("tpr is undefined for c" in note for note in found.notes)


def test_one_group_or_no_positive_prediction_makes_summaries_undefined() -> None:
    one = HAND.assign(group="a")
    found = fairness(None, one, target="y", sensitive="group", predictions=PREDICTED)
    assert math.isnan(found.demographic_parity_difference)
    assert "one group only" in found.undefined["demographic_parity_difference"]
    none = fairness(None, HAND, target="y", sensitive="group", predictions=[0] * 10)
    assert none.demographic_parity_difference == 0.0
    assert math.isnan(none.demographic_parity_ratio)
    assert "no group has a positive prediction" in none.undefined["demographic_parity_ratio"]


def test_intersections_of_sensitive_columns() -> None:
    data = HAND.assign(shift=["day", "night"] * 5)
    found = fairness(None, data, target="y", sensitive=("group", "shift"), predictions=PREDICTED)
    assert found.sensitive == "group × shift"
    assert set(found.by_group["group"]) == {"a | day", "a | night", "b | day", "b | night"}
    assert found.by_group["count"].sum() == 10


def test_fairness_input_errors() -> None:
    with pytest.raises(InvalidInput, match=r"sensitive column 'grp' .* Did you mean 'group'"):
        fairness(None, HAND, target="y", sensitive="grp", predictions=PREDICTED)
    with pytest.raises(InvalidInput, match="3 values for 10 rows"):
        fairness(None, HAND, target="y", sensitive="group", predictions=[1, 0, 1])
    with pytest.raises(InvalidInput, match="either a model or predictions"):
        fairness(
            ThresholdModel("x", 0.5), HAND, target="y", sensitive="group", predictions=PREDICTED
        )
    with pytest.raises(InvalidInput, match="summary 'parity' is unknown"):
        fairness(None, HAND, target="y", sensitive="group", predictions=PREDICTED).summary("parity")
