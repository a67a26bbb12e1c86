"""Streamed window aggregates equal the offline FeatureView rows, whatever the arrival order."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mloop import features as fs
from mloop.core.errors import InvalidInput
from mloop.streams.windows import WindowAggregator

START = pd.Timestamp("2026-03-01", tz="UTC")
FEATURES = [
    "tx_count_10m",
    "amount_sum_10m",
    "amount_mean_10m",
    "amount_std_10m",
    "amount_min_10m",
    "amount_max_5m",
]


def _view(source: pd.DataFrame) -> fs.FeatureView:
    account = fs.Entity("account", join_keys=["account"])
    return fs.FeatureView(
        "tx",
        entity=account,
        source=source,
        timestamp="ts",
        features=FEATURES,
        transforms=[
            fs.window_agg(None, "count", "10m", name="tx_count_10m"),
            fs.window_agg("amount", "sum", "10m", name="amount_sum_10m"),
            fs.window_agg("amount", "mean", "10m", name="amount_mean_10m"),
            fs.window_agg("amount", "std", "10m", name="amount_std_10m"),
            fs.window_agg("amount", "min", "10m", name="amount_min_10m"),
            fs.window_agg("amount", "max", "5m", name="amount_max_5m"),
        ],
    )


def _events(seed: int, n: int = 300, accounts: int = 6, minutes: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, minutes * 60, n))
    seconds[5:10] = seconds[5]  # events at the same time
    amount = np.round(rng.gamma(2.0, 30.0, n), 2)
    amount[rng.random(n) < 0.05] = np.nan  # missing amounts are not summed
    return pd.DataFrame(
        {
            "request_id": [f"t{i}" for i in range(n)],
            "account": rng.choice([f"a{i}" for i in range(accounts)], n),
            "ts": START + pd.to_timedelta(seconds, unit="s"),
            "amount": amount,
        }
    )


def _assert_same(streamed: pd.DataFrame, offline: pd.DataFrame) -> None:
    assert list(streamed["tx_count_10m"]) == list(offline["tx_count_10m"])
    assert offline["amount_min_10m"].notna().sum() > 0  # the windows are not all empty
    for name in FEATURES[1:]:
        np.testing.assert_allclose(
            streamed[name].to_numpy(float), offline[name].to_numpy(float), rtol=1e-9, atol=1e-7
        )


def test_each_streamed_event_gets_the_offline_training_set_value() -> None:
    events = _events(0)
    store = fs.FeatureStore()
    view = _view(events)
    store.apply([view.entity, view])
    offline = store.get_training_set(
        events[["request_id", "account", "ts"]].rename(columns={"ts": "event_timestamp"}),
        [f"tx:{f}" for f in FEATURES],
    )
    windows = WindowAggregator(view, allowed_lateness="0s", id_column="request_id")
    rows = pd.concat(
        [windows.update(events.iloc[i : i + 37]).rows for i in range(0, len(events), 37)],
        ignore_index=True,
    )
    assert len(rows) == len(events)
    _assert_same(rows, offline)
    assert windows.retained < len(events)  # events out of every future window are forgotten


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink rebuilds stores: minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 10_000),
    lateness_s=st.integers(0, 300),
    batch=st.integers(1, 80),
    duplicate_share=st.floats(0, 0.3),
)
def test_online_values_after_a_replay_equal_the_offline_rows(
    seed: int, lateness_s: int, batch: int, duplicate_share: float
) -> None:
    """Events arrive out of order (up to the allowed lateness) and some twice."""
    rng = np.random.default_rng(seed)
    events = _events(seed, n=150, accounts=4, minutes=40)
    # arrival order: event time plus a random delay within the allowed lateness
    arrival = events["ts"] + pd.to_timedelta(rng.integers(0, lateness_s + 1, len(events)), "s")
    stream = events.iloc[np.argsort(arrival.to_numpy(), kind="stable")]
    # redeliveries: copies of some events, each arriving at a random point after its original
    picked = np.flatnonzero(rng.random(len(stream)) < duplicate_share)
    repeats = stream.iloc[picked]
    positions = np.r_[np.arange(len(stream)), rng.integers(picked, len(stream)) + 0.5]
    stream = pd.concat([stream, repeats]).iloc[np.argsort(positions, kind="stable")]
    windows = WindowAggregator(
        _view(events), allowed_lateness=f"{lateness_s}s", id_column="request_id"
    )
    latest: dict[str, dict] = {}
    late = duplicates = 0
    for i in range(0, len(stream), batch):
        update = windows.update(stream.iloc[i : i + batch])
        late += len(update.late)
        duplicates += update.duplicates
        for row in update.latest.to_dict("records"):
            latest[row["account"]] = row
    # every event counted once: a repeat is a duplicate, or late once its original is forgotten
    assert late + duplicates == len(repeats)
    # offline reference: for each account, the feature row of its last event
    last = events.loc[events.groupby("account")["ts"].idxmax(), ["account", "ts"]]
    store = _applied(events)
    offline = store.get_training_set(
        last.rename(columns={"ts": "event_timestamp"}), [f"tx:{f}" for f in FEATURES]
    )
    online = pd.DataFrame([latest[a] for a in offline["account"]])
    _assert_same(online, offline)


def _applied(events: pd.DataFrame) -> fs.FeatureStore:
    import uuid

    store = fs.FeatureStore(online=f"sqlite:///{uuid.uuid4().hex}.db")
    view = _view(events)
    store.apply([view.entity, view])
    return store


def test_a_late_event_is_set_aside_and_not_counted() -> None:
    events = _events(1, n=40)
    windows = WindowAggregator(_view(events), allowed_lateness="30s", id_column="request_id")
    windows.update(events.iloc[:30])
    stale = events.iloc[[2]].assign(request_id="late-1")  # minutes behind the watermark
    update = windows.update(stale)
    assert list(update.late["request_id"]) == ["late-1"] and update.rows.empty
    assert update.watermark == events["ts"].iloc[29] - timedelta(seconds=30)


def test_pushed_rows_are_served_online_as_materialized_ones_are() -> None:
    events = _events(2, n=200)
    store = _applied(events)
    windows = WindowAggregator(_view(events), allowed_lateness="0s")
    update = windows.update(events)
    assert store.push("tx", update.latest) == events["account"].nunique()
    accounts = sorted(events["account"].unique())
    served = store.get_online_features(
        [{"account": a} for a in accounts], [f"tx:{f}" for f in FEATURES]
    )
    served = pd.DataFrame(served.to_dict())
    expected = update.latest.set_index("account").loc[accounts].reset_index()
    _assert_same(served, expected)
    # the same values materialization computes from the offline definition
    other = _applied(events)
    other.materialize(None, events["ts"].max().to_pydatetime() + timedelta(seconds=1))
    materialized = pd.DataFrame(
        other.get_online_features(
            [{"account": a} for a in accounts], [f"tx:{f}" for f in FEATURES]
        ).to_dict()
    )
    _assert_same(served, materialized)


def test_a_view_with_a_transform_streams_cannot_compute_is_refused() -> None:
    account = fs.Entity("account", join_keys=["account"])
    view = fs.FeatureView(
        "tx",
        entity=account,
        source=_events(0),
        timestamp="ts",
        transforms=[fs.delta("amount", "10m", name="amount_change_10m")],
    )
    with pytest.raises(InvalidInput, match="amount_change_10m"):
        WindowAggregator(view)


def test_pushing_to_an_unknown_view_or_without_a_feature_says_which() -> None:
    from mloop.core.errors import NotFound

    events = _events(3, n=20)
    store = _applied(events)
    update = WindowAggregator(_view(events), allowed_lateness="0s").update(events)
    with pytest.raises(NotFound, match="'txx' is not applied"):
        store.push("txx", update.latest)
    with pytest.raises(InvalidInput, match=r"lack column\(s\) \['amount_max_5m'\]"):
        store.push("tx", update.latest.drop(columns=["amount_max_5m"]))
    assert store.push("tx", update.latest.iloc[:0]) == 0
