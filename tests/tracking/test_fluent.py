"""The fluent tracking API: runs, params, metrics, tags, artifacts and inputs."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.core.errors import Conflict, InvalidInput, NotFound
from mloop.store import lineage


def test_a_run_used_as_context_manager_finishes_with_its_values(db_url: str) -> None:
    mloop.set_experiment("exp")
    with mloop.start_run(run_name="first", tags={"team": "ops"}) as run:
        mloop.log_param("model", "rf")
        mloop.log_params({"depth": 8, "lr": 0.1})
        mloop.log_metric("auc", 0.9)
        mloop.log_metrics({"loss": 0.25, "acc": 0.8})
        mloop.set_tag("stage", "dev")
        assert mloop.active_run() is run
    assert mloop.active_run() is None
    stored = mloop.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.run_name == "first"
    assert stored.info.end_time is not None and stored.info.end_time >= stored.info.start_time
    assert stored.data.params == {"model": "rf", "depth": "8", "lr": "0.1"}
    assert stored.data.metrics == {"auc": 0.9, "loss": 0.25, "acc": 0.8}
    assert stored.data.tags["team"] == "ops"
    assert stored.data.tags["stage"] == "dev"
    assert mloop.get_experiment_by_name("exp").experiment_id == stored.info.experiment_id  # type: ignore[union-attr]


def test_an_exception_inside_the_run_marks_it_failed(db_url: str) -> None:
    def train() -> str:
        with mloop.start_run() as run:
            mloop.log_metric("x", 1)
            raise RuntimeError(run.info.run_id)

    with pytest.raises(RuntimeError) as error:
        train()
    run_id = str(error.value)
    assert mloop.get_run(run_id).info.status == "FAILED"
    assert mloop.get_run(run_id).data.metrics == {"x": 1.0}


def test_keyboard_interrupt_marks_the_run_killed() -> None:
    with pytest.raises(KeyboardInterrupt), mloop.start_run() as run:
        raise KeyboardInterrupt
    assert mloop.get_run(run.info.run_id).info.status == "KILLED"


def test_a_run_can_be_resumed_by_id_and_keeps_its_params() -> None:
    with mloop.start_run() as run:
        mloop.log_param("alpha", 1)
        mloop.log_metric("loss", 0.5, step=0)
    with mloop.start_run(run_id=run.info.run_id) as resumed:
        assert resumed.info.status == "RUNNING"
        mloop.log_metric("loss", 0.4, step=1)
        with pytest.raises(Conflict, match="immutable"):
            mloop.log_param("alpha", 2)
    stored = mloop.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.metrics["loss"] == 0.4
    assert [m.value for m in mloop.get_metric_history(run.info.run_id, "loss")] == [0.5, 0.4]
    with pytest.raises(NotFound, match="does not exist"):
        mloop.start_run(run_id="0" * 32)


def test_nested_runs_record_their_parent_and_a_second_top_run_is_refused() -> None:
    with mloop.start_run() as parent:
        with pytest.raises(Conflict, match="nested=True"):
            mloop.start_run()
        with mloop.start_run(nested=True) as child:
            mloop.log_metric("inner", 1)
    stored = mloop.get_run(child.info.run_id)
    assert stored.info.parent_run_id == parent.info.run_id
    assert stored.data.tags["mloop.parentRunId"] == parent.info.run_id


def test_params_are_immutable_but_relogging_the_same_value_is_fine() -> None:
    with mloop.start_run():
        mloop.log_param("a", 1)
        mloop.log_param("a", "1")
        with pytest.raises(Conflict, match=r"param 'a' of run .* is already '1'"):
            mloop.log_param("a", 2)


def test_nan_and_infinite_metric_values_round_trip(db_url: str) -> None:
    with mloop.start_run() as run:
        mloop.log_metric("nan", float("nan"))
        mloop.log_metric("pos", float("inf"))
        mloop.log_metric("neg", float("-inf"), step=3)
    metrics = mloop.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["pos"] == math.inf
    assert metrics["neg"] == -math.inf
    history = mloop.get_metric_history(run.info.run_id, "nan")
    assert len(history) == 1 and math.isnan(history[0].value)


def test_the_latest_metric_is_the_one_at_the_highest_step(db_url: str) -> None:
    with mloop.start_run() as run:
        mloop.log_metric("loss", 0.1, step=5)
        mloop.log_metric("loss", 0.9, step=1)
        mloop.flush()
        mloop.log_metric("loss", 0.7, step=2)
    assert mloop.get_run(run.info.run_id).data.metrics["loss"] == 0.1
    history = mloop.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.9), (2, 0.7), (5, 0.1)]


def test_bad_values_are_refused_with_a_message_naming_them() -> None:
    with mloop.start_run():
        with pytest.raises(InvalidInput, match=r"metric 'acc' got '0\.9'"):
            mloop.log_metric("acc", "0.9")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="characters mloop does not accept"):
            mloop.log_metric("bad*name", 1.0)
        with pytest.raises(InvalidInput, match="step"):
            mloop.log_metric("x", 1.0, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="limit is 6000"):
            mloop.log_param("long", "x" * 7000)


def test_log_params_with_a_list_is_a_clear_error() -> None:
    with mloop.start_run():
        with pytest.raises(InvalidInput, match=r"log_params got params=list .*dict\(pairs\)"):
            mloop.log_params([("depth", 8)])  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="log_metrics got metrics=list"):
            mloop.log_metrics([0.1, 0.2])  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="set_tags got tags=str"):
            mloop.set_tags("team=ops")  # type: ignore[arg-type]


def test_numpy_scalars_are_accepted_as_metric_values() -> None:
    import numpy as np

    with mloop.start_run() as run:
        mloop.log_metric("f32", np.float32(0.5))
        mloop.log_metric("i64", np.int64(3))
    assert mloop.get_run(run.info.run_id).data.metrics == {"f32": 0.5, "i64": 3.0}


def test_logging_without_a_run_starts_one_like_mlflow() -> None:
    mloop.log_metric("auto", 1.0)
    run = mloop.active_run()
    assert run is not None
    mloop.end_run()
    assert mloop.get_run(run.info.run_id).data.metrics == {"auto": 1.0}


def test_artifacts_are_stored_under_the_run_and_read_back(mloop_home: Path, db_url: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (mloop_home / "notes.txt").write_text("hello")
    folder = mloop_home / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.csv").write_text("x\n1\n")
    figure, axis = plt.subplots()
    axis.plot([1, 2, 3])
    with mloop.start_run() as run:
        mloop.log_artifact(mloop_home / "notes.txt", "docs")
        mloop.log_artifacts(folder, "data")
        mloop.log_text("some text", "text/readme.md")
        mloop.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        mloop.log_dict({"a": 1}, "config.yaml")
        mloop.log_figure(figure, "figures/line.png")
    client = mloop.Client()
    listed = client.list_artifacts(run.info.run_id)
    assert {
        "docs/notes.txt",
        "data/sub/a.csv",
        "text/readme.md",
        "config.json",
        "config.yaml",
        "figures/line.png",
    } <= set(listed)
    path = client.download_artifacts(run.info.run_id, "config.json", mloop_home / "out")
    assert json.loads(path.read_text()) == {"a": 1, "b": [1, 2]}
    png = client.download_artifacts(run.info.run_id, "figures/line.png", mloop_home / "out")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_run_records_its_origin_environment_and_code_version(mloop_home: Path) -> None:
    repo = mloop_home / "repo"
    repo.mkdir()
    for args in (
        ["init", "-q"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "t"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    (repo / "train.py").write_text("print('v1')\n")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "first"], cwd=repo, check=True)
    (repo / "train.py").write_text("print('v2')\n")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    import os

    os.chdir(repo)
    with mloop.start_run() as run:
        pass
    tags = mloop.get_run(run.info.run_id).data.tags
    assert tags["mloop.source.git.commit"] == commit
    assert tags["mloop.source.git.dirty"] == "true"
    assert tags["mloop.python_version"].count(".") == 2
    assert tags["mloop.user"] and tags["mloop.host"] and tags["mloop.source.name"]
    client = mloop.Client()
    assert {"system/requirements.txt", "system/git_diff.patch"} <= set(
        client.list_artifacts(run.info.run_id)
    )
    diff = client.download_artifacts(run.info.run_id, "system/git_diff.patch", mloop_home / "d")
    assert "+print('v2')" in diff.read_text()
    requirements = client.download_artifacts(
        run.info.run_id, "system/requirements.txt", mloop_home / "d"
    )
    assert "pandas==" in requirements.read_text()


def test_log_input_records_lineage_from_the_data_to_the_run(db_url: str) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    with mloop.start_run() as run:
        node = mloop.log_input(frame, context="training")
        mloop.log_input(lineage.Node("dataset_version", "flights@3"), context="validation")
    stored = mloop.get_run(run.info.run_id)
    assert {(i.kind, i.id, i.context) for i in stored.inputs} == {
        ("external", node.id, "training"),
        ("dataset_version", "flights@3", "validation"),
    }
    assert node == mloop.tracking.as_lineage_node(frame.copy())
    with pytest.raises(InvalidInput, match="log_input got int"):
        mloop.log_input(42)


def test_log_input_of_a_training_set_frame_links_the_training_set() -> None:
    from mloop import features as fs

    flights = pd.DataFrame(
        {
            "origin": ["JFK", "JFK"],
            "ts": pd.to_datetime(["2013-01-01 10:00", "2013-01-01 12:00"], utc=True),
        }
    )
    weather = pd.DataFrame(
        {
            "origin": ["JFK", "JFK"],
            "time_hour": pd.to_datetime(["2013-01-01 09:00", "2013-01-01 11:00"], utc=True),
            "temp": [30.0, 32.0],
        }
    )
    origin = fs.Entity("origin", join_keys=["origin"])
    view = fs.FeatureView("weather", entity=origin, source=weather, timestamp="time_hour", ttl="3h")
    store = fs.FeatureStore()
    store.apply([origin, view])
    frame = store.get_training_set(flights, features=["weather:temp"], timestamp="ts")
    with mloop.start_run() as run:
        node = mloop.log_input(frame, context="training")
    assert node.kind == "training_set"
    assert mloop.get_run(run.info.run_id).inputs[0].kind == "training_set"
