"""Anomaly detectors: thresholds from the reference, ranked and explained flags, streaming updates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mloop.core.errors import InvalidInput
from mloop.data import IsolationForestDetector, RobustDetector


def _reference(rows: int = 20_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({f"f{j}": rng.normal(10 * j, 1 + j, rows) for j in range(5)})


def _with_outlier(frame: pd.DataFrame, row: int, feature: str, value: float) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[row, feature] = value
    return frame


def test_threshold_is_the_reference_score_quantile() -> None:
    reference = _reference()
    detector = RobustDetector(quantile=0.99).fit(reference)
    flagged = detector.is_anomaly(reference).mean()
    assert flagged == pytest.approx(0.01, abs=0.002)
    assert detector.features == [f"f{j}" for j in range(5)]


@pytest.mark.parametrize("combine", ["rms", "max", "mean"])
def test_robust_detector_ranks_a_planted_outlier_first_and_names_its_feature(combine: str) -> None:
    batch = _with_outlier(_reference(2_000, seed=1), 123, "f3", 300.0)
    detector = RobustDetector(combine=combine).fit(_reference())
    flags = detector.flag(batch)
    assert flags[0].index == 123 and flags[0].position == 123
    top = flags[0].features[0]
    assert top.feature == "f3" and top.value == 300.0
    assert top.expected == pytest.approx(30.0, abs=0.2)
    assert top.score == pytest.approx((300.0 - 30.0) / 4.0, rel=0.05)
    assert [f.score for f in flags] == sorted((f.score for f in flags), reverse=True)


def test_scores_match_robust_z_scores_computed_by_hand() -> None:
    reference = _reference(5_001)
    detector = RobustDetector(combine="max").fit(reference)
    values = reference.to_numpy()
    median = np.median(values, axis=0)
    scale = 1.4826 * np.median(np.abs(values - median), axis=0)
    expected = (np.abs(values - median) / scale).max(axis=1)
    assert np.allclose(detector.score(reference), expected)


def test_zero_inflated_and_constant_features_do_not_swamp_the_score() -> None:
    rng = np.random.default_rng(2)
    rain = np.where(rng.random(10_000) < 0.9, 0.0, rng.exponential(0.1, 10_000))
    reference = pd.DataFrame({"rain": rain, "year": 2013.0, "temp": rng.normal(50, 10, 10_000)})
    detector = RobustDetector().fit(reference)
    assert detector.scale is not None and np.all(detector.scale > 0)
    batch = pd.DataFrame(
        {"rain": [0.2, 0.0, 0.0], "year": [2013.0, 2014.0, 2013.0], "temp": [50.0, 50.0, 250.0]}
    )
    assert list(detector.is_anomaly(batch)) == [False, True, True]  # a rainy hour is normal
    scores = detector.score(batch)
    assert scores[1] > scores[2] > scores[0]  # a changed constant, then a 20-sigma temperature


def test_missing_values_are_left_out_of_the_score() -> None:
    detector = RobustDetector(combine="mean").fit(_reference())
    batch = pd.DataFrame({f"f{j}": [10.0 * j] for j in range(5)})
    batch.loc[0, "f2"] = np.nan
    assert detector.score(batch)[0] < 0.1


def test_update_follows_a_slowly_drifting_stream_but_keeps_flagging_outliers() -> None:
    static = RobustDetector().fit(_reference())
    adaptive = RobustDetector(memory=4_000).fit(_reference())
    for step in range(1, 31):  # the level creeps up by 0.2 per batch, 6.0 in all
        batch = _reference(1_000, seed=step) + 0.2 * step
        adaptive.update(batch)
    final = _reference(2_000, seed=99) + 6.0
    assert static.is_anomaly(final).mean() > 0.5
    assert adaptive.is_anomaly(final).mean() < 0.01
    spike = _with_outlier(final.iloc[:10], 3, "f0", 1_000.0)
    assert adaptive.flag(spike)[0].index == 3


def test_fitted_state_round_trips() -> None:
    detector = RobustDetector().fit(_reference())
    again = RobustDetector.from_dict(detector.to_dict())
    batch = _reference(100, seed=9)
    assert np.array_equal(again.score(batch), detector.score(batch))


def test_numpy_records_work_with_generated_feature_names() -> None:
    values = _reference().to_numpy(copy=True)
    detector = RobustDetector().fit(values)
    values[7, 2] = 1e4
    flag = detector.flag(values)[0]
    assert flag.index == 7 and flag.features[0].feature == "x2"


def test_isolation_forest_flags_and_explains_a_planted_outlier() -> None:
    detector = IsolationForestDetector(quantile=0.995, n_estimators=60).fit(_reference(5_000))
    batch = _with_outlier(_with_outlier(_reference(1_000, seed=4), 42, "f1", 60.0), 42, "f3", -40.0)
    flags = {flag.index: flag for flag in detector.flag(batch)}
    assert 42 in flags and len(flags) < 30
    assert {c.feature for c in flags[42].features[:2]} == {"f1", "f3"}
    assert sum(c.score for c in flags[42].features) <= 1.0 + 1e-9
    assert detector.score(batch)[42] > detector.score(batch)[np.arange(1_000) != 42].mean() + 0.1
    assert detector.is_anomaly(_reference(5_000, seed=5)).mean() < 0.02


def test_isolation_forest_refits_on_a_reservoir_of_normal_stream_records() -> None:
    detector = IsolationForestDetector(n_estimators=30, reservoir=2_000).fit(_reference(3_000))
    forest = detector.forest
    shifted = _reference(4_000, seed=6) + 0.3
    scores = detector.update(shifted.iloc[:1_000])
    assert scores.shape == (1_000,) and detector.forest is forest
    for start in range(1_000, 4_000, 1_000):
        detector.update(shifted.iloc[start : start + 1_000])
    assert detector.forest is not forest


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: RobustDetector().score(_reference(10)), "not fitted"),
        (lambda: RobustDetector(combine="median"), "rms, max, mean"),
        (lambda: RobustDetector(quantile=1.0), "between 0 and 1"),
        (
            lambda: RobustDetector().fit(_reference()).score(_reference().drop(columns="f1")),
            "'f1' is not in the data",
        ),
        (lambda: RobustDetector().fit(pd.DataFrame({"s": ["a", "b"]})), "no numeric columns"),
        (
            lambda: RobustDetector(features=["s"]).fit(pd.DataFrame({"s": ["a", "b"]})),
            "must be numeric",
        ),
        (lambda: RobustDetector().fit(np.zeros(5)), "2-D"),
        (lambda: IsolationForestDetector().flag(_reference(10)), "not fitted"),
    ],
)
def test_detector_misuse_is_a_clear_error(call, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call()
