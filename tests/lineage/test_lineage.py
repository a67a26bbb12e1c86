"""mloop.lineage and ``mloop lineage``: the graph the APIs record, asked in one call."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import mloop
import mloop.data
import mloop.lineage
from mloop.cli.main import app
from mloop.core.errors import InvalidInput, NotFound
from mloop.lineage import Node


def _train(dataset: mloop.data.DatasetVersion) -> str:
    """A run that reads ``dataset`` and registers a model version of 'delays'."""
    frame = dataset.load()
    with mloop.start_run() as run:
        mloop.log_input(dataset, context="training")
        model = LogisticRegression().fit(frame[["distance"]], frame["late"])
        mloop.log_model(model, "model", registered_model_name="delays")
    return run.info.run_id


@pytest.fixture
def trained() -> dict[str, str]:
    """Two datasets, two runs, two versions of 'delays'; champion is version 2."""
    first = mloop.data.register(
        "flights", pd.DataFrame({"distance": [100.0, 900.0, 200.0, 1200.0], "late": [0, 1, 0, 1]})
    )
    second = mloop.data.register(
        "flights", pd.DataFrame({"distance": [150.0, 800.0, 250.0, 1500.0], "late": [0, 1, 0, 1]})
    )
    run_1, run_2 = _train(first), _train(second)
    mloop.registry.set_alias("delays", "champion", 2, reason="better")
    return {"first": first.key, "second": second.key, "run_1": run_1, "run_2": run_2}


def test_what_data_trained_the_champion_is_one_call(trained: dict[str, str]) -> None:
    found = mloop.lineage.upstream("models:/delays@champion")
    assert found.root == Node("model_version", "delays/2")
    assert found.nodes("dataset_version") == [Node("dataset_version", trained["second"])]
    assert found.nodes() == [Node("run", trained["run_2"]), Node("dataset_version", "flights@2")]
    assert [(e.source.kind, e.relation, e.target.kind, e.depth) for e in found.edges] == [
        ("run", "produced", "model_version", 1),
        ("dataset_version", "input_of", "run", 2),
    ]
    assert found.edges[1].properties == {
        "name": "flights",
        "digest": mloop.data.get_version("flights@2").sha256,
        "context": "training",
    }
    # the alias moves: the answer follows it
    mloop.registry.set_alias("delays", "champion", 1, reason="rollback")
    assert mloop.lineage.upstream("models:/delays@champion").nodes("dataset_version") == [
        Node("dataset_version", trained["first"])
    ]


def test_downstream_finds_what_was_made_from_a_dataset_and_depth_stops_the_walk(
    trained: dict[str, str],
) -> None:
    found = mloop.lineage.downstream(f"datasets:/{trained['first']}")
    assert found.nodes() == [Node("run", trained["run_1"]), Node("model_version", "delays/1")]
    near = mloop.lineage.downstream(f"datasets:/{trained['first']}", depth=1)
    assert near.nodes() == [Node("run", trained["run_1"])]
    by_run = mloop.lineage.upstream(f"runs:/{trained['run_2']}/model")
    assert by_run.nodes() == [Node("dataset_version", trained["second"])]
    assert mloop.lineage.upstream("models:/delays/1").nodes("dataset_version") == [
        Node("dataset_version", trained["first"])
    ]
    assert mloop.lineage.upstream(f"run:{trained['run_1']}").nodes() == [
        Node("dataset_version", trained["first"])
    ]


def test_the_tree_shows_a_shared_input_once(trained: dict[str, str]) -> None:
    dataset = mloop.data.get_version("flights@1")
    with mloop.start_run() as run:  # a third run reads flights@1 twice, in two contexts
        mloop.log_input(dataset, context="training")
        mloop.log_input(dataset, context="validation")
    tree = mloop.lineage.downstream(f"datasets:/{trained['first']}").tree()
    assert tree["node"] == f"dataset_version:{trained['first']}"
    children = {child["node"]: child for child in tree["children"]}
    assert set(children) == {f"run:{trained['run_1']}", f"run:{run.info.run_id}"}
    assert [c["node"] for c in children[f"run:{trained['run_1']}"]["children"]] == [
        "model_version:delays/1"
    ]


def test_bad_uris_and_depths_are_clear_errors(trained: dict[str, str]) -> None:
    with pytest.raises(InvalidInput, match="models:/<name>@<alias>"):
        mloop.lineage.upstream("delays@champion")
    with pytest.raises(InvalidInput, match="kind among"):
        mloop.lineage.upstream("table:flights")
    with pytest.raises(NotFound, match="nope"):
        mloop.lineage.upstream("models:/nope@champion")
    with pytest.raises(InvalidInput, match="depth 0"):
        mloop.lineage.upstream("models:/delays@champion", depth=0)
    assert mloop.lineage.upstream("dataset_version:unknown@1").edges == ()


def test_the_command_prints_a_tree_and_json(trained: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["lineage", "models:/delays@champion"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "model_version delays/2" in lines[0]
    assert any(f"run {trained['run_2']}" in line and "produced" in line for line in lines)
    assert any("dataset_version flights@2" in line and "input_of" in line for line in lines)
    result = runner.invoke(
        app, ["lineage", f"datasets:/{trained['first']}", "--downstream", "--json", "--depth", "2"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["direction"] == "downstream"
    assert payload["nodes"] == [f"run:{trained['run_1']}", "model_version:delays/1"]
    assert payload["tree"]["children"][0]["children"][0]["relation"] == "produced"


def test_the_command_says_what_is_wrong_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mloop", "lineage", "models:/nope@champion"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "error: registered model 'nope' does not exist" in done.stderr
    assert "Traceback" not in done.stderr
