"""A training set's record shows in a notebook: rows, entity columns, features by view version."""

from __future__ import annotations

import pandas as pd

from mloop import features as fs
from mloop.features import TrainingSet, training_set_of


def test_a_training_set_shows_each_feature_with_its_view_version() -> None:
    origin = fs.Entity("origin", join_keys=["origin"])
    times = pd.to_datetime(["2013-01-01 00:00", "2013-01-01 01:00"], utc=True)
    weather = fs.FeatureView(
        "weather",
        entity=origin,
        source=pd.DataFrame({"origin": ["EWR", "EWR"], "time_hour": times, "temp": [30.0, 31.0]}),
        timestamp="time_hour",
        features=["temp"],
    )
    store = fs.FeatureStore()
    store.apply([origin, weather])
    entity_df = pd.DataFrame({"origin": ["EWR"] * 3, "event_timestamp": times.append(times[:1])})
    record = training_set_of(store.get_training_set(entity_df, features=["weather:temp"]))
    html = record._repr_html_()
    assert "<b>rows</b>: 3" in html and "<b>features</b>: 1" in html
    assert f"<b>id</b>: {record.id}" in html
    assert "<b>entity columns</b>: origin" in html
    assert "<td" in html and ">temp</td>" in html and ">weather</td>" in html
    assert f">{record.views['weather']}</td>" in html  # the view version it was read from


def test_names_in_a_training_set_summary_are_escaped() -> None:
    record = TrainingSet(
        id="ts1",
        features=("v:<script>alert(1)</script>",),
        views={"v": 2},
        num_rows=5,
        created_at=0,
        entity_sha256="0" * 64,
        entity_columns=("<b>",),
    )
    html = record._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;" in html and "1970-01-01 00:00 UTC" in html
