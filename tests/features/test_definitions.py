"""Definitions: apply validates and versions them; lineage and the training-set record."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mloop import features as fs
from mloop.core.errors import InvalidInput, NotFound
from mloop.store import audit, get_store, lineage
from mloop.store.lineage import Node


def _weather() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "origin": ["JFK", "JFK", "LGA"],
            "time_hour": pd.to_datetime(
                ["2013-01-01 05:00", "2013-01-01 06:00", "2013-01-01 05:00"], utc=True
            ),
            "temp": [39.0, 40.0, 41.0],
            "humid": [59.0, 61.0, 50.0],
        }
    )


ORIGIN = fs.Entity("origin", join_keys=["origin"])


def test_features_default_to_every_non_key_non_timestamp_column_plus_transformations(
    store: fs.FeatureStore,
) -> None:
    view = fs.FeatureView(
        "weather",
        entity=ORIGIN,
        source=_weather(),
        timestamp="time_hour",
        transforms=[fs.expression("temp - humid", name="spread")],
    )
    store.apply([ORIGIN, view])
    applied = store.get_definition("feature_view", "weather")
    assert [(f.name, f.dtype) for f in applied.features] == [
        ("temp", "float64"),
        ("humid", "float64"),
        ("spread", "float64"),
    ]


def test_applying_the_same_definition_twice_keeps_its_version(db_url: str) -> None:
    store = fs.FeatureStore()
    view = fs.FeatureView("weather", entity=ORIGIN, source=_weather(), timestamp="time_hour")
    first = store.apply([ORIGIN, view])
    again = store.apply([ORIGIN, view])
    assert [a.version for a in first] == [1, 1] and all(a.changed for a in first)
    assert [a.version for a in again] == [1, 1] and not any(a.changed for a in again)


def test_a_changed_definition_is_a_new_version_with_lineage_from_its_source(db_url: str) -> None:
    store = fs.FeatureStore()
    store.apply(
        [
            fs.FeatureView(
                "weather", entity=ORIGIN, source=_weather(), timestamp="time_hour", ttl="1h"
            )
        ]
    )
    [_, applied] = store.apply(
        [
            fs.FeatureView(
                "weather", entity=ORIGIN, source=_weather(), timestamp="time_hour", ttl="2h"
            )
        ]
    )
    assert applied.version == 2 and applied.changed
    assert store.get_definition("feature_view", "weather").ttl_micros == 2 * 3600 * 1_000_000
    upstream = lineage.upstream(get_store(), Node("feature_view_version", "weather/2"))
    assert [(e.source.kind, e.relation) for e in upstream] == [("artifact", "source_of")]
    applies = audit.entries(get_store(), object_kind="feature_view", object_id="weather")
    assert sorted(e.to_value for e in applies) == ["1", "2"]


def test_a_parquet_path_is_a_source(store: fs.FeatureStore, tmp_path: Path) -> None:
    path = tmp_path / "weather.parquet"
    _weather().to_parquet(path)
    store.apply([fs.FeatureView("weather", entity=ORIGIN, source=path, timestamp="time_hour")])
    frame = pd.DataFrame(
        {"origin": ["LGA"], "event_timestamp": pd.to_datetime(["2013-01-02"], utc=True)}
    )
    assert store.get_training_set(frame, features=["weather:temp"])["temp"].tolist() == [41.0]
    upstream = lineage.upstream(get_store(), Node("feature_view_version", "weather/1"))
    assert upstream[0].source == Node("external", str(path))


def test_a_training_set_is_recorded_with_lineage_and_can_be_saved(store: fs.FeatureStore) -> None:
    store.apply(
        [fs.FeatureView("weather", entity=ORIGIN, source=_weather(), timestamp="time_hour")]
    )
    frame = pd.DataFrame(
        {
            "origin": ["JFK", "LGA"],
            "event_timestamp": pd.to_datetime(["2013-01-01 05:30"] * 2, utc=True),
        }
    )
    result = store.get_training_set(frame, features=["weather:temp"], save=True)
    record = fs.training_set_of(result)
    assert record.lineage_node() == Node("training_set", record.id)
    assert store.training_set(record.id) == record
    assert (
        record.views == {"weather": 1}
        and record.num_rows == 2
        and record.features == ("weather:temp",)
    )
    saved = pd.read_parquet(store.artifacts.local_path(record.artifact_key or ""))
    assert saved["temp"].tolist() == [39.0, 41.0]
    edges = lineage.upstream(get_store(), record.lineage_node())
    assert {(str(e.source), e.relation) for e in edges} >= {
        ("feature_view_version:weather/1", "feature_of")
    }


def test_the_result_keeps_the_entity_frame_first_with_its_index_and_order(
    store: fs.FeatureStore,
) -> None:
    store.apply(
        [fs.FeatureView("weather", entity=ORIGIN, source=_weather(), timestamp="time_hour")]
    )
    frame = pd.DataFrame(
        {
            "label": [1, 0, 1],
            "origin": ["LGA", "JFK", "JFK"],
            "event_timestamp": pd.to_datetime(
                ["2013-01-01 07:00", "2013-01-01 07:00", "2013-01-01 05:00"], utc=True
            ),
        },
        index=[7, 7, 3],
    )
    result = store.get_training_set(frame, features=["weather:humid", "weather:temp"])
    assert list(result.columns) == ["label", "origin", "event_timestamp", "humid", "temp"]
    assert list(result.index) == [7, 7, 3]
    assert result["temp"].tolist() == [41.0, 40.0, 39.0]


def test_a_service_names_the_features_of_a_model(store: fs.FeatureStore) -> None:
    view = fs.FeatureView("weather", entity=ORIGIN, source=_weather(), timestamp="time_hour")
    store.apply([view, fs.FeatureService("model", features=["weather:*"])])
    assert store.get_definition("feature_service", "model").features == (
        "weather:temp",
        "weather:humid",
    )
    frame = pd.DataFrame(
        {"origin": ["JFK"], "event_timestamp": pd.to_datetime(["2013-01-01 06:00"], utc=True)}
    )
    assert store.get_training_set(frame, service="model")[["temp", "humid"]].values.tolist() == [
        [40.0, 61.0]
    ]


def test_a_view_without_timestamp_is_static_and_joins_on_keys_only(store: fs.FeatureStore) -> None:
    tailnum = fs.Entity("tailnum", join_keys=["tailnum"])
    planes = pd.DataFrame(
        {"tailnum": ["N1", "N2", "N1"], "year": [1999.0, None, 2004.0], "seats": [100, 50, 200]}
    )
    store.apply(
        [fs.FeatureView("planes", entity=tailnum, source=planes, features=["year", "seats"])]
    )
    frame = pd.DataFrame(
        {"tailnum": ["N2", "N1", "N9"], "event_timestamp": pd.to_datetime(["1990-01-01"] * 3)}
    )
    result = store.get_training_set(frame, features=["planes:year", "planes:seats"])
    assert result["seats"].tolist()[:2] == [50, 200]  # the last row of a key wins
    assert result["year"].isna().tolist() == [True, False, True]
    store.materialize(None, pd.Timestamp("2000-01-01").to_pydatetime())
    online = store.get_online_features({"tailnum": ["N1", "N2"]}, features=["planes:seats"])
    assert online.values["seats"] == [200, 50] and online.statuses["seats"] == [
        "PRESENT",
        "PRESENT",
    ]


# -- bad input: one clear error each ---------------------------------------------------------


@pytest.fixture
def applied(store: fs.FeatureStore) -> fs.FeatureStore:
    store.apply(
        [fs.FeatureView("weather", entity=ORIGIN, source=_weather(), timestamp="time_hour")]
    )
    return store


def test_an_entity_frame_without_the_join_key_is_refused(applied: fs.FeatureStore) -> None:
    frame = pd.DataFrame(
        {"orgin": ["JFK"], "event_timestamp": pd.to_datetime(["2013-01-02"], utc=True)}
    )
    with pytest.raises(InvalidInput, match=r"no join key column 'origin'. Did you mean 'orgin'"):
        applied.get_training_set(frame, features=["weather:temp"])


def test_an_entity_frame_without_a_timestamp_is_refused(applied: fs.FeatureStore) -> None:
    with pytest.raises(InvalidInput, match="no timestamp column"):
        applied.get_training_set(pd.DataFrame({"origin": ["JFK"]}), features=["weather:temp"])
    frame = pd.DataFrame({"origin": ["JFK"], "when": ["2013-01-02"]})
    with pytest.raises(InvalidInput, match=r"not timestamps; convert it with pd.to_datetime"):
        applied.get_training_set(frame, features=["weather:temp"], timestamp="when")


def test_naive_and_aware_timestamps_cannot_be_mixed(applied: fs.FeatureStore) -> None:
    naive = pd.DataFrame({"origin": ["JFK"], "event_timestamp": pd.to_datetime(["2013-01-02"])})
    with pytest.raises(InvalidInput, match="naive and aware"):
        applied.get_training_set(naive, features=["weather:temp"])
    mixed = pd.DataFrame(
        {
            "origin": ["JFK", "JFK"],
            "event_timestamp": pd.Series(
                [pd.Timestamp("2013-01-02"), pd.Timestamp("2013-01-02", tz="UTC")], dtype=object
            ),
        }
    )
    with pytest.raises(InvalidInput, match="mixes naive and time-zone-aware"):
        applied.get_training_set(mixed, features=["weather:temp"])


def test_an_unknown_feature_suggests_the_nearest_name(applied: fs.FeatureStore) -> None:
    frame = pd.DataFrame(
        {"origin": ["JFK"], "event_timestamp": pd.to_datetime(["2013-01-02"], utc=True)}
    )
    with pytest.raises(NotFound, match=r"no feature 'tmp'. Did you mean 'temp'"):
        applied.get_training_set(frame, features=["weather:tmp"])
    with pytest.raises(NotFound, match=r"'wether' is not applied. Did you mean 'weather'"):
        applied.get_training_set(frame, features=["wether:temp"])
    with pytest.raises(InvalidInput, match="'view:feature'"):
        applied.get_training_set(frame, features=["temp"])


def test_a_source_whose_type_changed_is_refused_at_ingest(
    store: fs.FeatureStore, tmp_path: Path
) -> None:
    path = tmp_path / "weather.parquet"
    _weather().to_parquet(path)
    store.apply([fs.FeatureView("weather", entity=ORIGIN, source=path, timestamp="time_hour")])
    _weather().assign(temp=["cold", "warm", "hot"]).to_parquet(path)
    frame = pd.DataFrame(
        {"origin": ["JFK"], "event_timestamp": pd.to_datetime(["2013-01-02"], utc=True)}
    )
    with pytest.raises(
        InvalidInput, match=r"column 'temp' of .* is VARCHAR but the definition reads it as DOUBLE"
    ):
        store.get_training_set(frame, features=["weather:temp"])
    with pytest.raises(InvalidInput, match="column 'temp'"):
        store.materialize(None, pd.Timestamp("2014-01-01", tz="UTC").to_pydatetime())


def test_a_declared_type_that_does_not_match_the_source_is_refused(store: fs.FeatureStore) -> None:
    view = fs.FeatureView(
        "weather",
        entity=ORIGIN,
        source=_weather(),
        timestamp="time_hour",
        features=[fs.Feature("temp", "string")],
    )
    with pytest.raises(
        InvalidInput, match="'temp' is declared string but the source gives float64"
    ):
        store.apply([view])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timestamp": "time"}, "no timestamp column 'time'. Did you mean 'time_hour'"),
        ({"timestamp": "temp"}, "is DOUBLE, not a timestamp"),
        ({"features": ["tmp"]}, "'tmp' is neither a source column nor a transformation"),
        ({"transforms": [fs.expression("temp / nope", name="bad")]}, "do not run on the source"),
        ({"transforms": [fs.expression("temp", name="humid")]}, "would overwrite source columns"),
    ],
)
def test_apply_reports_inconsistent_definitions(
    store: fs.FeatureStore, kwargs: dict[str, object], message: str
) -> None:
    options: dict[str, object] = {"timestamp": "time_hour", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        store.apply([fs.FeatureView("weather", entity=ORIGIN, source=_weather(), **options)])  # type: ignore[arg-type]


def test_bad_definitions_fail_when_written() -> None:
    with pytest.raises(InvalidInput, match="not a duration"):
        fs.FeatureView("w", entity=ORIGIN, source=_weather(), timestamp="time_hour", ttl="soon")
    with pytest.raises(InvalidInput, match="aggregate 'median' is unknown"):
        fs.window_agg("x", "median", "7d")
    with pytest.raises(InvalidInput, match="no time to look back"):
        fs.FeatureView("w", entity=ORIGIN, source=_weather(), transforms=[fs.lag("temp", 1)])
    with pytest.raises(InvalidInput, match="name 'bad name' is not valid"):
        fs.Entity("bad name")


def test_a_registered_dataset_is_a_source_pinned_to_its_version(store: fs.FeatureStore) -> None:
    from mloop import data

    data.register("weather", _weather())
    by_reference = fs.FeatureView(
        "weather", entity=ORIGIN, source="dataset:weather@latest", timestamp="time_hour"
    )
    [_, applied] = store.apply([ORIGIN, by_reference])
    assert store.get_definition("feature_view", "weather").source.dataset == "weather@1"
    upstream = lineage.upstream(
        get_store(), Node("feature_view_version", f"weather/{applied.version}")
    )
    assert upstream[0].source == Node("dataset_version", "weather@1")
    data.register("weather", _weather().assign(temp=[0.0, 0.0, 0.0]))
    frame = pd.DataFrame(
        {"origin": ["JFK"], "event_timestamp": pd.to_datetime(["2013-01-02"], utc=True)}
    )
    assert store.get_training_set(frame, features=["weather:temp"])["temp"].tolist() == [
        40.0
    ]  # still @1
    by_object = fs.FeatureView(
        "weather", entity=ORIGIN, source=data.get_version("weather@2"), timestamp="time_hour"
    )
    [_, second] = store.apply([ORIGIN, by_object])
    assert second.version == applied.version + 1
    assert store.get_training_set(frame, features=["weather:temp"])["temp"].tolist() == [0.0]
