"""The runner contract: the same pipeline gives the same outputs, runs and failures on every runner."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import mloop
from mloop.pipelines import NodeFailed, Pipeline, node, pipeline, run
from mloop.pipelines.runners import get_runner
from mloop.store import get_store
from mloop.store.lineage import Node, downstream, upstream
from tests.pipelines import nodes_for_tests as f

PARAMS = {"rows": 10, "factor": 2.0}


def _features() -> Pipeline:
    return Pipeline(
        [
            node(f.make_frame, "params:rows", "raw"),
            node(f.add_feature, ["raw", "params:factor"], "features"),
            node(f.split_even_odd, "features", ["even", "odd"]),
            node(f.count, "even", "n_even"),
            node(f.count, "odd", "n_odd", name="count_odd"),
            node(f.summarize, "features", "summary"),
        ]
    )


def _expected() -> dict[str, object]:
    frame = f.add_feature(f.make_frame(10), 2.0)
    return {"n_even": 5, "n_odd": 5, "summary": {"rows": 10, "total": float(frame["y"].sum())}}


def test_every_runner_gives_the_same_outputs_runs_and_lineage(runner: str) -> None:
    reused = pipeline(
        Pipeline([node(f.group_sums, "features", "groups")]),
        namespace="report",
        inputs="features",
    )
    result = run(
        _features() + reused, params=PARAMS, runner=runner, name="features", experiment="contract"
    )
    assert result.status == "FINISHED"
    assert {k: result.outputs[k] for k in ("n_even", "n_odd", "summary")} == _expected()
    pd.testing.assert_frame_equal(
        result.outputs["report.groups"],
        f.group_sums(f.add_feature(f.make_frame(10), 2.0)),
    )
    assert {s.status for s in result.nodes.values()} == {"ran"}

    parent = mloop.get_run(result.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["mloop.pipeline"] == "features"
    assert parent.data.tags["mloop.pipeline.runner"] == runner
    assert parent.data.metrics["nodes_ran"] == 7
    children = {
        s.name: mloop.get_run(s.run_id) for s in result.nodes.values() if s.run_id is not None
    }
    assert len(children) == 7
    assert all(c.info.parent_run_id == result.run_id for c in children.values())
    assert mloop.get_experiment_by_name("contract").experiment_id == parent.info.experiment_id
    assert {c.info.experiment_id for c in children.values()} == {parent.info.experiment_id}
    summary = children["summarize"]
    assert summary.data.metrics["rows"] == 10  # logged inside the node, on its child run
    assert summary.data.tags["mloop.pipeline.node"] == "summarize"
    assert len(summary.data.tags["mloop.output.summary.sha256"]) == 64
    assert children["add_feature"].data.params["factor"] == "2.0"

    store = get_store()
    contained = {e.target.id for e in downstream(store, Node("pipeline_run", result.run_id), 1)}
    assert contained == {c.info.run_id for c in children.values()}
    summary_vertex = next(
        e.target
        for e in downstream(store, Node("run", summary.info.run_id), 1)
        if e.relation == "produced"
    )
    origins = {(e.source.kind, e.relation) for e in upstream(store, summary_vertex)}
    assert ("artifact", "derived") in origins and ("run", "produced") in origins


def test_a_failing_node_stops_its_dependents_and_says_how_to_resume(runner: str) -> None:
    pipe = Pipeline(
        [
            node(f.make_frame, "params:rows", "raw"),
            node(f.explode, "raw", "broken"),
            node(f.count, "broken", "n_broken"),
            node(f.count, "raw", "n_raw", name="count_raw"),
        ]
    )
    with pytest.raises(NodeFailed) as caught:
        run(pipe, params=PARAMS, runner=runner, name="fragile")
    error = caught.value
    message = str(error)
    assert (
        "failed at node 'explode': ValueError: bad batch: column x has negative values" in message
    )
    expected = "mloop run fragile --from-nodes explode"
    if runner != "sequential":
        expected += f" --runner {runner}"
    assert expected in message
    statuses = {name: s.status for name, s in error.result.nodes.items()}
    assert statuses == {
        "make_frame": "ran",
        "explode": "failed",
        "count": "skipped",
        "count_raw": "ran",
    }
    assert error.result.status == "FAILED"
    assert "ValueError" in (error.traceback or "")
    assert mloop.get_run(error.result.run_id).info.status == "FAILED"
    failed_child = error.result.nodes["explode"].run_id
    assert failed_child is not None and mloop.get_run(failed_child).info.status == "FAILED"


def test_parallel_runner_runs_nodes_in_worker_processes() -> None:
    pipe = Pipeline(
        [node(f.pid, "params:rows", "a"), node(f.pid, "params:factor", "b", name="pid_b")]
    )
    result = run(pipe, params=PARAMS, runner="parallel", track=False, cache=False)
    assert os.getpid() not in (result.outputs["a"], result.outputs["b"])


def test_a_dataset_is_released_after_its_last_reader() -> None:
    pipe = Pipeline(
        [
            node(f.produce_blob, "params:rows", "blob"),
            node(f.use_blob, "blob", "length"),
            node(f.blob_released, "length", "released"),
        ]
    )
    result = run(pipe, params=PARAMS, runner="sequential", track=False, cache=False)
    assert result.outputs == {"released": True}


def test_an_unknown_runner_or_missing_input_is_one_clear_error() -> None:
    with pytest.raises(
        mloop.errors.InvalidInput, match=r"runner 'paralel' is unknown. Did you mean 'parallel'"
    ):
        get_runner("paralel")
    pipe = Pipeline([node(f.count, "flights", "n")])
    with pytest.raises(
        mloop.errors.NotFound,
        match=r"node 'count' reads 'flights', but no node writes it .* Did you mean 'flight'",
    ):
        run(pipe, catalog={"flight": pd.DataFrame({"a": [1]})})
    with pytest.raises(mloop.errors.NotFound, match=r"parameter 'params:rows' is not defined"):
        run(Pipeline([node(f.make_frame, "params:rows", "raw")]))


def test_an_input_that_cannot_reach_a_worker_process_is_one_clear_error() -> None:
    import threading

    pipe = Pipeline([node(f.count, "lock", "n")])
    with pytest.raises(mloop.errors.InvalidInput, match=r"cannot be sent to a worker process"):
        run(pipe, catalog={"lock": [threading.Lock()]}, runner="parallel", cache=False)


def test_a_node_returning_the_wrong_number_of_outputs_fails_its_run_clearly() -> None:
    pipe = Pipeline(
        [node(f.make_frame, "params:rows", "raw"), node(f.two_values, "raw", ["a", "b"])]
    )
    with pytest.raises(
        NodeFailed, match=r"returned 3 values, but it declares 2 outputs \['a', 'b'\]"
    ):
        run(pipe, params=PARAMS, track=False)


def test_progress_reports_each_node_as_it_starts_and_ends_on_every_runner(runner: str) -> None:
    events: list[tuple[str, str]] = []
    pipe = Pipeline(
        [
            node(f.make_frame, "params:rows", "raw"),
            node(f.explode, "raw", "bad"),
            node(f.count, "bad", "n_bad"),
            node(f.count, "raw", "n_raw", name="count_raw"),
        ]
    )
    with pytest.raises(NodeFailed):
        run(
            pipe,
            params=PARAMS,
            runner=runner,
            track=False,
            progress=lambda s: events.append((s.name, s.status)),
        )
    # every node that ran was reported started before it ended; the failure's dependent skipped
    assert sorted(events) == sorted(
        [
            ("make_frame", "started"),
            ("make_frame", "ran"),
            ("explode", "started"),
            ("explode", "failed"),
            ("count", "skipped"),
            ("count_raw", "started"),
            ("count_raw", "ran"),
        ]
    )
    for name in ("make_frame", "explode", "count_raw"):
        started = events.index((name, "started"))
        assert all(i > started for i, (n, s) in enumerate(events) if n == name and s != "started")
    assert events[0] == ("make_frame", "started") and events[1] == ("make_frame", "ran")
    again: list[tuple[str, str]] = []
    run(
        Pipeline([node(f.make_frame, "params:rows", "raw")]),
        params=PARAMS,
        runner=runner,
        track=False,
        progress=lambda s: again.append((s.name, s.status)),
    )
    assert again == [("make_frame", "cached")]  # a cache hit never starts
