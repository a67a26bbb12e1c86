"""Datasets: content-addressed versions, streaming registration, loading, lineage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mloop.core.errors import IntegrityError, InvalidInput, NotFound
from mloop.data import get_version, list_datasets, load, register, versions
from mloop.store import get_artifacts, get_store
from mloop.store.lineage import Node, upstream


def test_register_stores_parquet_with_metadata_and_profile(
    db_url: str, weather: pd.DataFrame
) -> None:
    version = register("weather", weather, description="hourly weather")
    assert (version.name, version.version, version.key) == ("weather", 1, "weather@1")
    assert version.num_rows == len(weather) and len(version.sha256) == 64
    assert version.schema[0] == {"name": "origin", "type": "string"}
    assert {"name": "wind_speed", "type": "float64"} in version.schema
    assert version.profile["pressure"].nulls == int(weather["pressure"].isna().sum())
    assert version.lineage_node() == Node("dataset_version", "weather@1")
    assert pq.read_metadata(version.uri).num_rows == len(weather)  # a real Parquet file
    import duckdb

    assert duckdb.execute(f"SELECT count(*) FROM read_parquet('{version.uri}')").fetchone() == (
        len(weather),
    )
    again = get_version("weather@latest")
    assert again.sha256 == version.sha256 and again.profile.to_dict() == version.profile.to_dict()
    assert load("weather").equals(weather)


def test_registering_the_same_content_again_returns_the_existing_version(
    weather: pd.DataFrame,
) -> None:
    first = register("weather", weather)
    assert register("weather", weather.copy()).version == 1
    # the same rows in another container
    assert register("weather", pa.Table.from_pandas(weather)).version == 1
    shuffled = register("weather", weather.iloc[::-1])
    assert shuffled.version == 2 and shuffled.sha256 != first.sha256
    assert [v.version for v in versions("weather")] == [1, 2]
    assert [v.key for v in list_datasets()] == ["weather@2"]
    import mloop.data

    assert [v.key for v in mloop.data.list()] == ["weather@2"]  # the name for it


def test_index_labels_are_not_content_but_named_indexes_are_columns() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    assert register("d", frame).version == 1
    assert register("d", frame.set_axis([7, 8, 9])).version == 1
    named = register("d", frame.rename_axis("row_id"))
    assert named.version == 2 and named.columns == ["row_id", "a"]


def test_a_parquet_file_larger_than_one_batch_is_registered_in_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=400_000), "k": pd.array(rng.choice(["a", "b"], 400_000), dtype="str")}
    )
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=50_000)
    version = register("big", path)
    assert version.num_rows == 400_000
    # re-cut into row groups of 131,072 rows
    assert pq.ParquetFile(version.uri).metadata.num_row_groups == 4
    assert register("big", frame).version == 1  # same content from memory: same version
    assert version.profile["k"].frequencies() == frame["k"].value_counts().to_dict()  # type: ignore[attr-defined]
    assert load("big@1")["x"].sum() == pytest.approx(frame["x"].sum())


def test_a_csv_file_and_a_stream_of_batches_register_too(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    path = tmp_path / "small.csv"
    frame.to_csv(path, index=False)
    from_csv = register("small", path)
    batches = pa.Table.from_pandas(frame, preserve_index=False).to_batches(max_chunksize=1)
    assert register("small", iter(batches)).version == from_csv.version
    assert load("small").to_dict("list") == {"a": [1, 2, 3], "b": ["x", "y", "z"]}


def test_load_checks_the_bytes_against_the_recorded_checksum() -> None:
    version = register("t", pd.DataFrame({"a": [1.0, 2.0]}))
    path = get_artifacts().local_path(version.artifact_key)
    assert path is not None
    pq.write_table(pa.table({"a": [9.0, 9.0]}), path)
    with pytest.raises(IntegrityError, match="corrupt"):
        load("t@1")


def test_a_run_that_reads_a_dataset_records_a_lineage_edge(db_url: str) -> None:
    import mloop.tracking as tracking

    version = register("weather", pd.DataFrame({"wind_speed": [1.0, 2.0]}))
    with tracking.start_run(run_name="reader", log_system_info=False) as run:
        load("weather@1")
        run_id = run.info.run_id
    edges = upstream(get_store(), Node("run", run_id))
    assert [(e.source, e.relation) for e in edges] == [(version.lineage_node(), "input_of")]
    load("weather@1")  # outside a run: no edge and no error
    assert len(upstream(get_store(), Node("run", run_id))) == 1


def test_a_run_that_registers_a_dataset_is_recorded_as_its_producer() -> None:
    import mloop.tracking as tracking

    with tracking.start_run(log_system_info=False) as run:
        version = register("made", pd.DataFrame({"a": [1]}))
    edges = upstream(get_store(), version.lineage_node())
    assert [(e.source, e.relation) for e in edges] == [(Node("run", run.info.run_id), "produced")]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: register("bad name", pd.DataFrame({"a": [1]})), InvalidInput, "letters, digits"),
        (
            lambda: register("e", pd.DataFrame({"a": pd.Series([], dtype=float)})),
            InvalidInput,
            "no rows",
        ),
        (
            lambda: register("e", pd.DataFrame({"a": [1, "x"]})),
            InvalidInput,
            "column 'a' cannot be stored",
        ),
        (lambda: register("e", pd.DataFrame([[1, 2]], columns=["a", "a"])), InvalidInput, "unique"),
        (lambda: register("e", 42), InvalidInput, "give a pandas DataFrame"),
        (lambda: register("e", "no/such/file.parquet"), NotFound, "does not exist"),
        (lambda: get_version("weathr"), NotFound, "Did you mean 'weather'"),
        (lambda: get_version("weather@7"), NotFound, "latest is 1"),
        (lambda: get_version("weather@first"), InvalidInput, "'latest'"),
        (lambda: load("weather", columns=["wind_sped"]), InvalidInput, "Did you mean 'wind_speed'"),
    ],
)
def test_bad_input_gets_one_clear_error(call, error: type[Exception], message: str) -> None:
    register("weather", pd.DataFrame({"wind_speed": [1.0]}))
    with pytest.raises(error, match=message):
        call()


def test_concurrent_registrations_get_distinct_versions(db_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    get_store()
    frames = [pd.DataFrame({"seed": [seed] * 10}) for seed in (1, 2, 3, 4, 1, 2)]
    with ThreadPoolExecutor(6) as pool:
        numbers = list(pool.map(lambda frame: register("shared", frame).version, frames))
    assert sorted(set(numbers)) == [1, 2, 3, 4]
    assert numbers[0] == numbers[4] and numbers[1] == numbers[5]  # same content, same version
    assert sorted(v.version for v in versions("shared")) == [1, 2, 3, 4]
