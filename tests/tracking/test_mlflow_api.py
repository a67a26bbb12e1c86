"""MLflow's tracking calls and system tag names, as MLflow users write them."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import mloop
from mloop.core.errors import Conflict, InvalidInput, NotFound


def _ids(found: object) -> set[str]:
    return {run.info.run_id for run in found}  # type: ignore[attr-defined]


def test_mlflow_system_tag_names_filter_the_runs_mloop_recorded(db_url: str) -> None:
    mloop.set_experiment("system-tags")
    with (
        mloop.start_run(run_name="parent", description="first try") as parent,
        mloop.start_run(run_name="child", nested=True) as child,
    ):
        pass
    with mloop.start_run(run_name="other") as other:
        pass
    tags = mloop.get_run(parent.info.run_id).data.tags
    user, source = tags["mloop.user"], tags["mloop.source.name"]

    def search(filter_string: str) -> set[str]:
        return _ids(mloop.search_runs(filter_string=filter_string, output_format="list"))

    assert search("tags.`mlflow.runName` = 'child'") == {child.info.run_id}
    assert search(f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'") == {child.info.run_id}
    assert search("tags.`mlflow.note.content` = 'first try'") == {parent.info.run_id}
    everyone = {parent.info.run_id, child.info.run_id, other.info.run_id}
    assert search(f"tags.`mlflow.user` = '{user}'") == everyone
    assert search(f"tags.\"mlflow.source.name\" = '{source}'") == everyone
    ordered = mloop.search_runs(order_by=["tags.`mlflow.runName` DESC"], output_format="list")
    assert [r.info.run_name for r in ordered] == ["parent", "other", "child"]  # type: ignore[union-attr]


def test_set_tag_with_mlflows_run_name_renames_the_run(db_url: str) -> None:
    with mloop.start_run(run_name="before") as run:
        mloop.set_tag("mlflow.runName", "after")
        mloop.set_tag("mlflow.note.content", "a note")
    stored = mloop.get_run(run.info.run_id)
    assert stored.info.run_name == "after"
    assert stored.data.tags["mloop.runName"] == "after"
    assert stored.data.tags["mloop.note.content"] == "a note"
    found = mloop.search_runs(filter_string="attributes.run_name = 'after'", output_format="list")
    assert _ids(found) == {run.info.run_id}
    named = mloop.start_run(tags={"mlflow.runName": "from-tag"})
    mloop.end_run()
    assert mloop.get_run(named.info.run_id).info.run_name == "from-tag"


def test_a_resumed_run_shows_the_tags_it_was_resumed_with(db_url: str) -> None:
    with mloop.start_run(tags={"a": "1"}) as first:
        pass
    with mloop.start_run(run_id=first.info.run_id, tags={"b": "2"}) as resumed:
        assert resumed.data.tags["a"] == "1"
        assert resumed.data.tags["b"] == "2"
        assert resumed.info.status == "RUNNING"
    assert mloop.get_run(first.info.run_id).data.tags["b"] == "2"
    with pytest.raises(NotFound, match="does not exist"):
        mloop.start_run(run_id="0" * 32, tags={"c": "3"})
    with mloop.start_run() as later:  # the refused resume left nothing behind to write
        mloop.set_tag("d", "4")
    assert mloop.get_run(later.info.run_id).data.tags["d"] == "4"


def test_deleted_runs_are_hidden_by_default_and_come_back_when_restored(db_url: str) -> None:
    mloop.set_experiment("deleting")
    with mloop.start_run() as kept:
        mloop.log_metric("m", 1.0)
    with mloop.start_run() as dropped:
        mloop.log_metric("m", 2.0)
    mloop.delete_run(dropped.info.run_id)
    assert _ids(mloop.search_runs(output_format="list")) == {kept.info.run_id}
    assert _ids(mloop.search_runs(run_view_type="DELETED_ONLY", output_format="list")) == {
        dropped.info.run_id
    }
    assert len(mloop.search_runs(run_view_type="ALL")) == 2
    assert len(mloop.search_runs(run_view_type=3)) == 2  # MLflow's ViewType.ALL
    deleted = mloop.get_run(dropped.info.run_id)
    assert deleted.info.lifecycle_stage == "deleted"
    assert deleted.data.metrics == {"m": 2.0}  # its data stays
    with pytest.raises(Conflict, match="deleted"):
        mloop.start_run(run_id=dropped.info.run_id)
    mloop.Client().restore_run(dropped.info.run_id)
    assert len(mloop.search_runs()) == 2
    with pytest.raises(InvalidInput, match="run_view_type 'EVERYTHING'"):
        mloop.search_runs(run_view_type="EVERYTHING")
    with pytest.raises(NotFound, match="nope"):
        mloop.delete_run("nope")


def test_deleting_an_experiment_deletes_its_runs_and_restoring_brings_both_back(
    db_url: str,
) -> None:
    client = mloop.Client()
    experiment_id = client.create_experiment("short-lived")
    run = client.create_run(experiment_id)
    client.set_terminated(run.info.run_id)
    mloop.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert mloop.search_runs(experiment_ids=[experiment_id], output_format="list") == []
    assert _ids(
        mloop.search_runs(
            experiment_ids=[experiment_id], run_view_type="DELETED_ONLY", output_format="list"
        )
    ) == {run.info.run_id}
    with pytest.raises(Conflict, match="restore_experiment"):
        mloop.set_experiment("short-lived")
    with pytest.raises(Conflict, match="is deleted"):
        client.create_run(experiment_id)
    client.restore_experiment(experiment_id)
    assert mloop.set_experiment("short-lived").lifecycle_stage == "active"
    assert _ids(mloop.search_runs(output_format="list")) == {run.info.run_id}
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"


def test_tags_of_runs_and_experiments_are_set_and_deleted(db_url: str) -> None:
    mloop.set_experiment("tagged")
    mloop.set_experiment_tag("team", "ops")
    mloop.set_experiment_tags({"team": "ml", "goal": "auc"})
    experiment = mloop.get_experiment_by_name("tagged")
    assert experiment is not None and experiment.tags == {"team": "ml", "goal": "auc"}
    client = mloop.Client()
    client.set_experiment_tag(experiment.experiment_id, "goal", "f1")
    assert client.get_experiment(experiment.experiment_id).tags == {"team": "ml", "goal": "f1"}
    with mloop.start_run() as run:
        mloop.set_tag("keep", "1")
        mloop.set_tag("drop", "2")
        mloop.delete_tag("drop")  # still in the write-behind buffer: flushed, then deleted
        with pytest.raises(NotFound, match="no tag 'never'"):
            mloop.delete_tag("never")
    client.set_tag(run.info.run_id, "later", "3")
    client.delete_tag(run.info.run_id, "later")
    tags = mloop.get_run(run.info.run_id).data.tags
    assert tags["keep"] == "1" and "drop" not in tags and "later" not in tags


def test_search_runs_refuses_experiment_ids_and_names_together(db_url: str) -> None:
    experiment = mloop.set_experiment("both")
    with pytest.raises(InvalidInput, match="both experiment_ids and experiment_names"):
        mloop.search_runs(experiment_ids=[experiment.experiment_id], experiment_names=["both"])


def test_metrics_not_equal_includes_runs_whose_value_is_nan(db_url: str) -> None:
    mloop.set_experiment("nan")
    ids = {}
    for label, value in [("five", 5.0), ("six", 6.0), ("nan", math.nan)]:
        with mloop.start_run() as run:
            mloop.log_metric("x", value)
        ids[label] = run.info.run_id
    with mloop.start_run() as without:
        pass
    found = _ids(mloop.search_runs(filter_string="metrics.x != 5", output_format="list"))
    assert found == {ids["six"], ids["nan"]}
    assert without.info.run_id not in found  # no value at all: no comparison holds
    assert _ids(mloop.search_runs(filter_string="metrics.x > 5", output_format="list")) == {
        ids["six"]
    }


@pytest.mark.parametrize(
    ("filter_string", "fix"),
    [
        ("params.depth = 8", "params.depth = '8'"),
        ("tags.version != 2.5", "tags.version != '2.5'"),
        ("params.depth IN (8, 9)", "params.depth IN ('8', ...)"),
        ("attributes.status = 1", "attributes.status = '1'"),
    ],
)
def test_unquoted_numbers_compared_with_text_are_refused_with_the_fix(
    filter_string: str, fix: str
) -> None:
    with pytest.raises(InvalidInput, match="are text") as error:
        mloop.search_runs(filter_string=filter_string)
    assert fix in str(error.value)


def test_keys_and_prefixes_in_backticks_and_attributes_without_prefix(db_url: str) -> None:
    with mloop.start_run(run_name="ticks") as run:
        mloop.log_metric("a", 1.0)
        mloop.log_param("a.b", "x")
    for filter_string in [
        "`metrics`.a = 1",
        "`params`.`a.b` = 'x'",
        "run_name = 'ticks'",
        "status = 'FINISHED' and start_time > 0",
        f"run_id = '{run.info.run_id}'",
    ]:
        found = mloop.search_runs(filter_string=filter_string, output_format="list")
        assert _ids(found) == {run.info.run_id}, filter_string


def test_runs_are_deleted_restored_and_listed_by_view_from_the_command_line() -> None:
    from typer.testing import CliRunner

    from mloop.cli.main import app

    with mloop.start_run() as run:
        pass
    runner = CliRunner()
    result = runner.invoke(app, ["runs", "delete", run.info.run_id])
    assert result.exit_code == 0 and "deleted run" in result.output
    assert mloop.get_run(run.info.run_id).info.lifecycle_stage == "deleted"

    def listed(*args: str) -> list[str]:
        done = runner.invoke(app, ["runs", "list", "--json", *args])
        assert done.exit_code == 0, done.output
        return [r["info"]["run_id"] for r in json.loads(done.output)]

    assert listed() == []
    assert listed("--view", "DELETED_ONLY") == [run.info.run_id]
    assert runner.invoke(app, ["runs", "restore", run.info.run_id]).exit_code == 0
    assert listed() == [run.info.run_id]


def test_a_dataframe_input_is_named_and_digested_without_reading_its_columns(
    db_url: str,
) -> None:
    frame = pd.DataFrame({"name": ["a", "b"], "sha256": ["x", "y"], "late": [0, 1]})
    with mloop.start_run() as run:
        node = mloop.log_input(frame, context="training")
        mloop.log_input(frame.assign(late=[1, 1]), context="eval", name="holdout")
    digest = node.id.split(":", 1)[1]
    for filter_string, expected in [
        ("datasets.name = 'dataframe' and datasets.context = 'training'", True),
        (f"datasets.digest = '{digest}'", True),
        ("datasets.name = 'holdout'", True),
        ("datasets.name IN ('a', 'x')", False),
    ]:
        found = mloop.search_runs(filter_string=filter_string, output_format="list")
        assert _ids(found) == ({run.info.run_id} if expected else set()), filter_string
