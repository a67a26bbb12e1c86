"""drift(): per-column statistics, dataset verdict, overrides, profiles and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from mloop import data
from mloop.core.errors import InvalidInput, NotFound
from mloop.monitoring import DriftDefaults, DriftReport, drift


def _frame(n: int, seed: int, shift: float = 0.0, new: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    letters = list("abcd") if not new else [*"abcd", "zz"]
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "y": rng.gamma(2.0, 1.0, n),
            "c": pd.Series(rng.choice(letters, n), dtype="string"),
            "flag": rng.random(n) < 0.3,
        }
    )


def test_a_shifted_column_drifts_and_quiet_ones_do_not() -> None:
    reference, current = _frame(20_000, 1), _frame(5_000, 2, shift=0.5)
    report = drift(reference, current)
    x = report.features["x"]
    assert (x.statistic, x.threshold, x.drifted, x.status) == ("wasserstein", 0.1, True, "drifted")
    assert x.score == pytest.approx(0.5, abs=0.05)  # a shift of half a standard deviation
    assert report.drifted == ["x"]
    assert report.features["c"].statistic == "jensenshannon"
    assert report.dataset.share == pytest.approx(0.25)
    assert report.dataset.drifted is False


def test_exact_scores_match_scipy_on_raw_data() -> None:
    reference, current = _frame(3_000, 1), _frame(12_000, 2, shift=0.1)
    report = drift(reference, current, columns=["x", "y"])
    for name in ("x", "y"):
        a, b = reference[name].to_numpy(), current[name].to_numpy()
        scores = report.features[name].scores
        ks = stats.ks_2samp(a, b, method="asymp")
        assert scores["ks_statistic"] == pytest.approx(ks.statistic)
        assert scores["ks"] == pytest.approx(ks.pvalue, rel=1e-6)
        assert scores["wasserstein_raw"] == pytest.approx(stats.wasserstein_distance(a, b))
        assert scores["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b) / a.std())


def test_small_samples_use_p_values() -> None:
    report = drift(_frame(5_000, 1), _frame(400, 2, shift=0.4))
    assert report.features["x"].statistic == "ks"
    assert report.features["x"].drifted is True
    assert report.features["c"].statistic == "chisquare"
    assert report.features["c"].drifted is False


def test_importance_keeps_one_drifted_key_feature_from_being_averaged_away() -> None:
    rng = np.random.default_rng(0)
    quiet = {f"q{i}": rng.normal(size=4_000) for i in range(9)}
    reference = pd.DataFrame({"key": rng.normal(size=4_000), **quiet})
    current = reference.sample(frac=1.0, random_state=1).reset_index(drop=True)
    current["key"] = current["key"] + 1.0
    plain = drift(reference, current)
    assert plain.dataset.share == pytest.approx(0.1)
    assert plain.dataset.drifted is False
    weights = {"key": 0.6, **dict.fromkeys(quiet, 0.4 / 9)}
    weighted = drift(reference, current, importance=pd.Series(weights))
    assert weighted.dataset.share == pytest.approx(0.1)
    assert weighted.dataset.score == pytest.approx(0.6)
    assert weighted.dataset.drifted is True
    assert weighted.ranked()[0].column == "key"


def test_statistic_and_threshold_can_be_overridden_per_column() -> None:
    reference, current = _frame(20_000, 1), _frame(5_000, 2, shift=0.15)
    default = drift(reference, current, columns=["x"])
    assert default.features["x"].drifted is True
    report = drift(
        reference,
        current,
        columns=["x", "c"],
        stats={"x": "psi", "c": "hellinger"},
        thresholds={"x": 0.5},
    )
    x = report.features["x"]
    assert (x.statistic, x.threshold, x.drifted) == ("psi", 0.5, False)
    assert x.score == x.scores["psi"]
    assert report.features["c"].statistic == "hellinger"
    assert report.features["c"].threshold == 0.1
    looser = drift(
        reference,
        current,
        columns=["x"],
        config=DriftDefaults().with_(thresholds={"wasserstein": 0.3}),
    )
    assert looser.features["x"].drifted is False


def test_a_stored_profile_gives_the_same_bins_and_close_sketch_statistics() -> None:
    reference, current = _frame(50_000, 1), _frame(20_000, 2, shift=0.2)
    exact = drift(reference, current)
    sketched = drift(data.profile(reference), current)
    both = drift(data.profile(reference), data.profile(current, like=data.profile(reference)))
    for report in (sketched, both):
        for name in ("x", "y"):
            e, s = exact.features[name].scores, report.features[name].scores
            assert s["psi"] == pytest.approx(e["psi"], rel=1e-9)
            # within the KLL sketch's rank error (~0.01 reference standard deviations)
            assert s["wasserstein"] == pytest.approx(e["wasserstein"], abs=0.02)
            assert s["ks_statistic"] == pytest.approx(e["ks_statistic"], abs=0.02)
        assert report.features["c"].scores["jensenshannon"] == pytest.approx(
            exact.features["c"].scores["jensenshannon"], rel=1e-9
        )
        assert report.drifted == exact.drifted == ["x"]


def test_missing_all_null_and_new_categories_are_findings_not_crashes() -> None:
    reference = _frame(5_000, 1)
    current = _frame(2_000, 2, new=True).drop(columns=["y"])
    current["x"] = np.nan
    report = drift(reference, current)
    assert report.features["y"].status == "missing"
    assert report.features["y"].drifted is None
    assert report.features["x"].status == "empty"
    assert report.features["x"].score is None
    assert report.features["c"].new_categories == ["zz"]
    shares = pd.concat(
        [reference["c"].value_counts(), _frame(2_000, 2, new=True)["c"].value_counts()], axis=1
    ).fillna(0)
    expected = distance.jensenshannon(shares.iloc[:, 0], shares.iloc[:, 1], base=2)
    assert report.features["c"].score == pytest.approx(expected, rel=1e-9)  # "zz" included
    kinds = {(f.column, f.kind) for f in report.findings}
    assert {("y", "missing"), ("x", "all_null"), ("c", "new_categories")} <= kinds
    assert report.dataset.missing == ["y"]
    assert report.dataset.columns == 2  # c and flag were compared


def test_a_rising_null_share_is_a_finding() -> None:
    current = _frame(2_000, 2)
    current.loc[: len(current) // 2, "y"] = np.nan
    report = drift(_frame(5_000, 1), current)
    assert report.features["y"].current_null_share == pytest.approx(0.5, abs=0.01)
    assert any(f.kind == "null_share" and f.column == "y" for f in report.findings)
    expected = stats.ks_2samp(_frame(5_000, 1)["y"], current["y"].dropna()).pvalue
    assert report.features["y"].statistic == "ks"  # the non-null rows, compared by KS
    assert report.features["y"].score == pytest.approx(expected, rel=1e-6)


def test_an_empty_window_reports_every_column_empty() -> None:
    report = drift(_frame(1_000, 1), _frame(1_000, 2).iloc[:0])
    assert {f.status for f in report.features.values()} == {"empty"}
    assert report.dataset.drifted is False


def test_to_frame_to_dict_and_back() -> None:
    report = drift(_frame(3_000, 1), _frame(3_000, 2, shift=1.0))
    frame = report.to_frame()
    assert list(frame["column"]) == ["x", "y", "c", "flag"]
    assert {"statistic", "score", "threshold", "drifted", "score_psi", "score_hellinger"} <= set(
        frame.columns
    )
    again = DriftReport.from_dict(report.to_dict())
    assert again.features["x"].score == report.features["x"].score
    assert again.dataset == report.dataset


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"columns": ["xx"]}, NotFound, "Did you mean 'x'"),
        ({"columns": "x"}, InvalidInput, "list of column names"),
        ({"stats": {"x": "kl"}}, InvalidInput, "not a drift statistic"),
        ({"stats": {"c": "wasserstein"}}, InvalidInput, "needs a numeric column"),
        ({"thresholds": {"x": -1}}, InvalidInput, "positive number"),
        ({"importance": {"x": -0.5}}, InvalidInput, "non-negative"),
        ({"importance": {"nope": 1.0}}, InvalidInput, "no positive weight"),
    ],
)
def test_bad_arguments_name_the_value_and_the_fix(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        drift(_frame(100, 1), _frame(100, 2), **kwargs)


def test_bad_data_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="give a pandas DataFrame"):
        drift([1, 2, 3], _frame(10, 1))
    with pytest.raises(InvalidInput, match="reference has no rows"):
        drift(_frame(10, 1).iloc[:0], _frame(10, 1))


def test_false_alarm_rate_on_windows_drawn_from_the_reference(
    flights_weather: pd.DataFrame,
) -> None:
    """Windows of realistic sizes drawn from the reference's own distribution rarely drift.

    Reference: a random half of January–March flights; windows: samples of the other half.
    P-value tests (500-row windows) may false-alarm at about their 5 % level; the distances
    of larger windows should not false-alarm at all.
    """
    columns = [
        "dep_delay",
        "distance",
        "air_time",
        "hour",
        "temp",
        "wind_speed",
        "carrier",
        "origin",
        "dest",
    ]
    quarter = flights_weather.loc[flights_weather["month"] <= 3, columns]
    order = np.random.default_rng(0).permutation(len(quarter))
    half = len(quarter) // 2
    reference = quarter.iloc[order[:half]].reset_index(drop=True)
    pool = quarter.iloc[order[half:]].reset_index(drop=True)
    profile = data.profile(reference)
    rates = {}
    for size, trials in ((500, 40), (5_000, 8), (50_000, 2)):
        flags = tests = 0
        for trial in range(trials):
            window = pool.sample(size, replace=size > len(pool), random_state=trial)
            for ref in (reference, profile):
                report = drift(ref, window)
                flags += len(report.drifted)
                tests += report.dataset.columns
        rates[size] = flags / tests
    assert rates[500] <= 0.07
    assert rates[5_000] == 0.0
    assert rates[50_000] == 0.0


def test_the_report_states_one_definition_of_dataset_drift_next_to_its_numbers() -> None:
    report = drift(_frame(20_000, 1), _frame(5_000, 2, shift=0.5))
    dataset = report.dataset
    assert (dataset.drifted_columns, dataset.columns, dataset.drifted) == (1, 4, False)
    assert dataset.badge == "partial"
    assert dataset.verdict == (
        "no dataset drift: 1 of 4 features drifted (25%, 25% of importance), under the 50% line"
    )
    page = report.to_html()
    assert "NO DATASET DRIFT" not in page and "1 COLUMN(S) DRIFTED" in page
    assert dataset.verdict in page
    assert "Dataset drift: at least 50% of the compared features drifted" in page
    weighted = drift(
        _frame(20_000, 1),
        _frame(5_000, 2, shift=0.5),
        importance={"x": 0.7, "y": 0.1, "c": 0.1, "flag": 0.1},
    ).dataset
    assert weighted.drifted and weighted.badge == "drift"  # 70% of the importance drifted
    assert weighted.verdict.startswith("dataset drift: 1 of 4 features drifted (25%, 70% of")
