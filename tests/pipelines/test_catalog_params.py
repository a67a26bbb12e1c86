"""The data catalog (files, mloop datasets, models, memory) and parameters with environments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.core.errors import ConfigError, InvalidInput, NotFound
from mloop.pipelines import (
    CSVDataset,
    DataCatalog,
    JSONDataset,
    MloopDataset,
    ModelDataset,
    ParquetDataset,
    load_catalog,
    load_params,
)
from mloop.pipelines.params import parse_overrides


def test_file_entries_round_trip_and_fingerprint_their_content(mloop_home: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    catalog = DataCatalog(
        {
            "p": ParquetDataset(path="data/p.parquet"),
            "c": CSVDataset(path="data/c.csv"),
            "j": JSONDataset(path="data/j.json"),
        }
    )
    catalog.save("p", frame)
    catalog.save("c", frame)
    catalog.save("j", {"auc": 0.8})
    pd.testing.assert_frame_equal(catalog.load("p"), frame)
    pd.testing.assert_frame_equal(catalog.load("c"), frame)
    assert catalog.load("j") == {"auc": 0.8}
    before = catalog.get("p").fingerprint()
    catalog.save("p", frame.assign(a=[1, 2, 4]))
    assert catalog.get("p").fingerprint() != before
    assert (mloop_home / "data" / "p.parquet").is_file()


def test_a_missing_file_names_the_entry_and_the_path() -> None:
    catalog = DataCatalog({"flights": ParquetDataset(path="data/flights.parquet")})
    with pytest.raises(
        NotFound,
        match=r"catalog entry 'flights' \(parquet\): file .*flights.parquet does not exist",
    ):
        catalog.load("flights")
    with pytest.raises(NotFound, match=r"Did you mean 'flights'"):
        catalog.load("flight")


def test_mloop_dataset_entries_read_versions_and_register_new_ones() -> None:
    entry = MloopDataset(dataset="weather")
    entry.name = "weather"
    assert not entry.exists()
    entry.save(pd.DataFrame({"t": [1.0, 2.0]}))
    entry.save(pd.DataFrame({"t": [1.0, 3.0]}))
    assert list(entry.load()["t"]) == [1.0, 3.0]
    pinned = MloopDataset(dataset="weather", version=1)
    assert list(pinned.load()["t"]) == [1.0, 2.0]
    assert pinned.fingerprint() != entry.fingerprint()
    assert str(entry.lineage_node()) == "dataset_version:weather@2"
    with pytest.raises(InvalidInput, match=r"pins version 1"):
        pinned.save(pd.DataFrame({"t": [0.0]}))


def test_model_entries_register_and_load_models() -> None:
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    entry = ModelDataset(model="delays", alias="candidate")
    with mloop.start_run():
        entry.save(LogisticRegression().fit(X, [0, 0, 1, 1]))
    loaded = entry.load()
    assert list(loaded.predict(X)) == [0, 0, 1, 1]
    assert str(entry.lineage_node()) == "model_version:delays/1"


def test_catalog_yaml_builds_typed_entries_and_rejects_unknown_types(mloop_home: Path) -> None:
    (mloop_home / "conf" / "base").mkdir(parents=True)
    (mloop_home / "conf" / "base" / "catalog.yml").write_text(
        "flights:\n  type: dataset\n  dataset: flights\nreport:\n  type: json\n  path: r.json\n"
    )
    (mloop_home / "conf" / "prod").mkdir()
    (mloop_home / "conf" / "prod" / "catalog.yml").write_text(
        "report:\n  type: json\n  path: prod/r.json\n"
    )
    base = load_catalog()
    assert isinstance(base.get("flights"), MloopDataset)
    assert base.describe()["report"] == {"type": "json", "path": "r.json"}
    assert load_catalog(env="prod").describe()["report"]["path"] == "prod/r.json"
    with pytest.raises(
        ConfigError, match=r"type 'parqet', which is unknown. Did you mean 'parquet'"
    ):
        DataCatalog.from_config({"x": {"type": "parqet", "path": "x.parquet"}})
    with pytest.raises(ConfigError, match=r"has no field 'pth'. Did you mean 'path'"):
        DataCatalog.from_config({"x": {"type": "parquet", "pth": "x.parquet"}})


def test_params_layer_toml_base_env_and_overrides(mloop_home: Path) -> None:
    (mloop_home / "mloop.toml").write_text("[params]\nthreshold = 10\n[params.model]\ndepth = 3\n")
    base = mloop_home / "conf" / "base"
    base.mkdir(parents=True)
    (base / "parameters.yml").write_text("model:\n  depth: 5\n  lr: 0.1\nname: base\n")
    (mloop_home / "conf" / "local").mkdir()
    (mloop_home / "conf" / "local" / "parameters.yml").write_text("name: local\n")
    (mloop_home / "conf" / "prod").mkdir()
    (mloop_home / "conf" / "prod" / "parameters.yml").write_text("model:\n  lr: 0.01\n")
    assert load_params() == {"threshold": 10, "model": {"depth": 5, "lr": 0.1}, "name": "local"}
    prod = load_params(env="prod")
    assert prod["model"] == {"depth": 5, "lr": 0.01} and prod["name"] == "base"
    overridden = load_params(overrides=parse_overrides(["model.depth=8", "name=cli"]))
    assert overridden["model"] == {"depth": 8, "lr": 0.1} and overridden["name"] == "cli"
    with pytest.raises(NotFound, match=r"environment 'prd' has no folder .* Did you mean 'prod'"):
        load_params(env="prd")


def test_a_parameter_file_with_a_syntax_error_gives_file_and_line(mloop_home: Path) -> None:
    base = mloop_home / "conf" / "base"
    base.mkdir(parents=True)
    (base / "parameters.yml").write_text("model:\n  depth: 5\n lr: [0.1\n")
    with pytest.raises(ConfigError, match=r"parameters.yml is not valid YAML at line \d+"):
        load_params()
    with pytest.raises(InvalidInput, match=r"has no '='"):
        parse_overrides(["model.depth"])


def test_training_set_entries_join_features_point_in_time() -> None:
    from mloop import data
    from mloop import features as fs
    from mloop.pipelines import TrainingSetDataset

    times = pd.to_datetime(["2013-01-01 05:00", "2013-01-01 06:00", "2013-01-01 07:00"], utc=True)
    weather = pd.DataFrame({"origin": ["JFK"] * 3, "time_hour": times, "temp": [30.0, 31.0, 35.0]})
    store = fs.FeatureStore()
    origin = fs.Entity("origin", join_keys=["origin"])
    store.apply(
        [origin, fs.FeatureView("weather", entity=origin, source=weather, timestamp="time_hour")]
    )
    store.close()
    flights = pd.DataFrame(
        {
            "origin": ["JFK", "JFK"],
            "time_hour": pd.to_datetime(["2013-01-01 06:30", "2013-01-01 07:10"], utc=True),
        }
    )
    data.register("departures", flights)
    entry = TrainingSetDataset(
        entities="departures", features=["weather:temp"], timestamp="time_hour"
    )
    entry.name = "training_set"
    frame = entry.load()
    assert list(frame["temp"]) == [31.0, 35.0]  # the latest reading at or before each departure
