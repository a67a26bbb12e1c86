"""Online/offline consistency: the value served online equals the training-set value."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd

from mloop import features as fs


def _source(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 72 * 60, n), unit="min"
    )
    return pd.DataFrame(
        {
            "station": rng.choice(["s1", "s2", "s3", "s4"], n),
            "ts": ts,
            "temp": np.where(rng.random(n) < 0.1, np.nan, rng.normal(10, 5, n)),
            "pressure": rng.normal(1010, 5, n),
        }
    )


def _temp_f(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"temp_f": df["temp"] * 1.8 + 32, "hot": (df["temp"] > df["limit"]).astype(float)}
    )


def _definitions() -> list[object]:
    station = fs.Entity("station", join_keys=["station"])
    weather = fs.FeatureView(
        "weather",
        entity=station,
        source=_source(),
        timestamp="ts",
        ttl="6h",
        transforms=[
            fs.delta("pressure", "3h", name="pressure_change_3h"),
            fs.window_agg("temp", "mean", "24h", name="temp_mean_24h"),
            fs.window_agg("temp", "count", "24h", name="readings_24h"),
            fs.lag("temp", 2),
        ],
    )
    derived = fs.OnDemandFeatureView(
        "derived",
        inputs=["weather:temp"],
        request=["limit"],
        function=_temp_f,
        outputs={"temp_f": "float64", "hot": "float64"},
    )
    service = fs.FeatureService("model", features=["weather:*", "derived:temp_f", "derived:hot"])
    return [station, weather, derived, service]


def _equal(a: object, b: object) -> bool:
    missing = [x is None or (isinstance(x, float) and math.isnan(x)) for x in (a, b)]
    if any(missing):
        return all(missing)
    return math.isclose(float(a), float(b), rel_tol=1e-12)  # type: ignore[arg-type]


def test_online_values_equal_training_set_values_at_the_same_time(online_url: str) -> None:
    store = fs.FeatureStore(online=online_url)
    store.apply(_definitions())
    stations = ["s1", "s2", "s3", "s4", "nowhere"]
    for hours in (30, 55, 71):
        at = pd.Timestamp("2024-01-01", tz="UTC") + timedelta(hours=hours)
        frame = pd.DataFrame(
            {"station": stations, "event_timestamp": [at] * 5, "limit": [10.0] * 5}
        )
        offline = store.get_training_set(frame, service="model")
        store.materialize(None, at + timedelta(microseconds=1))
        online = store.get_online_features(
            frame[["station", "limit"]], service="model", now=at.to_pydatetime()
        )
        served = online.to_dict()
        features = [c for c in offline.columns if c not in frame.columns]
        assert set(features) == set(served) - {"station"}
        for column in features:
            for i, station in enumerate(stations):
                assert _equal(offline[column].iloc[i], served[column][i]), (hours, station, column)
        assert online.statuses["temp"][-1] == "NOT_FOUND"
    store.close()


def test_an_expired_online_value_is_null_and_flagged(online_url: str) -> None:
    store = fs.FeatureStore(online=online_url)
    store.apply(_definitions())
    end = pd.Timestamp("2024-01-04", tz="UTC")
    store.materialize(None, end.to_pydatetime())
    fresh = store.get_online_features(
        {"station": ["s1"]}, features=["weather:pressure"], now=end.to_pydatetime()
    )
    later = store.get_online_features(
        {"station": ["s1"]},
        features=["weather:pressure"],
        now=(end + timedelta(hours=7)).to_pydatetime(),
    )
    assert fresh.statuses["pressure"] == ["PRESENT"]
    readings = _source()
    readings = readings[readings["station"] == "s1"]
    newest = readings[readings["ts"] == readings["ts"].max()]
    assert len(newest) == 1  # one newest reading of s1: the value served is that one
    assert fresh.values["pressure"][0] == float(newest["pressure"].iloc[0])
    assert later.statuses["pressure"] == ["EXPIRED"] and later.values["pressure"] == [None]
    store.close()


def test_incremental_materialization_continues_where_the_last_one_ended(online_url: str) -> None:
    store = fs.FeatureStore(online=online_url)
    store.apply(_definitions())
    first = pd.Timestamp("2024-01-02", tz="UTC").to_pydatetime()
    [run1] = store.materialize_incremental(end=first)
    [run2] = store.materialize_incremental(end=pd.Timestamp("2024-01-05", tz="UTC").to_pydatetime())
    assert run1.start_at is None and run2.start_at == run1.end_at
    assert run1.rows_written == 4 and run2.rows_written == 4
    total = _source()
    assert run1.rows_read + run2.rows_read == len(total)
    latest = total.sort_values("ts").groupby("station").tail(1).set_index("station")
    online = store.get_online_features(
        {"station": ["s1", "s2"]}, features=["weather:pressure"], now=latest["ts"].max()
    )
    assert online.values["pressure"] == latest.loc[["s1", "s2"], "pressure"].tolist()
    assert [r.status for r in store.materializations("weather")] == ["DONE", "DONE"]
    store.close()
