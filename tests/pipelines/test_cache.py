"""The node cache and partial runs: what is skipped, what re-runs, and resuming after a failure."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from mloop.core.errors import NotFound
from mloop.pipelines import NodeFailed, ParquetDataset, Pipeline, clear_cache, node, run
from tests.pipelines import nodes_for_tests as f

PARAMS = {"rows": 12, "factor": 2.0}


def _pipe() -> Pipeline:
    return Pipeline(
        [
            node(f.make_frame, "params:rows", "raw"),
            node(f.add_feature, ["raw", "params:factor"], "features"),
            node(f.summarize, "features", "summary"),
            node(f.count, "raw", "n_raw"),
        ]
    )


def _statuses(result: object) -> dict[str, str]:
    return {name: s.status for name, s in result.nodes.items()}  # type: ignore[attr-defined]


def test_a_second_run_with_nothing_changed_skips_every_node() -> None:
    first = run(_pipe(), params=PARAMS)
    second = run(_pipe(), params=PARAMS)
    assert set(_statuses(first).values()) == {"ran"}
    assert set(_statuses(second).values()) == {"cached"}
    assert second.outputs == first.outputs  # free outputs come back from the cache
    assert second.nodes["summarize"].cache_key == first.nodes["summarize"].cache_key


def test_a_changed_parameter_reruns_only_the_nodes_that_depend_on_it() -> None:
    run(_pipe(), params=PARAMS)
    changed = run(_pipe(), params={**PARAMS, "factor": 3.0})
    assert _statuses(changed) == {
        "make_frame": "cached",
        "add_feature": "ran",
        "summarize": "ran",
        "count": "cached",
    }
    assert changed.outputs["summary"]["total"] == float(
        f.add_feature(f.make_frame(12), 3.0)["y"].sum()
    )


def test_changed_input_data_reruns_its_readers(mloop_home: Path) -> None:
    source = ParquetDataset(path="raw.parquet")
    source.save(f.make_frame(5))
    pipe = Pipeline([node(f.count, "raw", "n")])
    assert run(pipe, catalog={"raw": source}).outputs == {"n": 5}
    assert _statuses(run(pipe, catalog={"raw": source})) == {"count": "cached"}
    source.save(f.make_frame(7))
    again = run(pipe, catalog={"raw": source})
    assert _statuses(again) == {"count": "ran"} and again.outputs == {"n": 7}


def _write_module(folder: Path, helper_body: str, unrelated_body: str) -> ModuleType:
    (folder / "cache_project.py").write_text(
        textwrap.dedent(
            f"""
            def helper(x):
                return {helper_body}

            def unrelated():
                return {unrelated_body}

            def transform(n):
                return [helper(i) for i in range(n)]
            """
        )
    )
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    if "cache_project" in sys.modules:
        return importlib.reload(sys.modules["cache_project"])
    return importlib.import_module("cache_project")


def test_a_changed_helper_function_invalidates_the_cache(mloop_home: Path) -> None:
    module = _write_module(mloop_home, "x + 1", "1")
    pipe = lambda m: Pipeline([node(m.transform, "params:rows", "values")])  # noqa: E731
    assert run(pipe(module), params=PARAMS).outputs["values"][:3] == [1, 2, 3]

    module = _write_module(mloop_home, "x + 1", "2")  # code the node never calls
    assert _statuses(run(pipe(module), params=PARAMS)) == {"transform": "cached"}

    module = _write_module(mloop_home, "x * 100", "2")  # only the helper changes
    rerun = run(pipe(module), params=PARAMS)
    assert _statuses(rerun) == {"transform": "ran"}
    assert rerun.outputs["values"][:3] == [0, 100, 200]
    sys.modules.pop("cache_project", None)


def test_no_cache_runs_every_node() -> None:
    run(_pipe(), params=PARAMS)
    assert set(_statuses(run(_pipe(), params=PARAMS, cache=False)).values()) == {"ran"}


def test_from_to_and_only_select_the_nodes_that_run() -> None:
    run(_pipe(), params=PARAMS)
    clear_cache(node="summarize")
    tail = run(_pipe(), params=PARAMS, from_nodes=["add_feature"], cache=False)
    assert _statuses(tail) == {"add_feature": "ran", "summarize": "ran"}
    head = run(_pipe(), params=PARAMS, to_nodes=["add_feature"], cache=False)
    assert _statuses(head) == {"make_frame": "ran", "add_feature": "ran"}
    single = run(_pipe(), params=PARAMS, only=["summarize"], cache=False)
    assert _statuses(single) == {"summarize": "ran"}
    assert single.outputs["summary"]["rows"] == 12


def test_a_partial_run_whose_upstream_was_never_stored_says_what_to_do() -> None:
    with pytest.raises(
        NotFound, match=r"written by node 'make_frame', which is not part of this partial run"
    ):
        run(_pipe(), params=PARAMS, only=["add_feature"])


def test_resuming_from_the_failed_node_reuses_the_nodes_before_it() -> None:
    pipe = Pipeline(
        [
            node(f.make_frame, "params:rows", "raw"),
            node(f.add_feature, ["raw", "params:factor"], "features"),
            node(f.explode_if, ["features", "params:fail"], "checked"),
            node(f.count, "checked", "n"),
        ]
    )
    with pytest.raises(NodeFailed) as caught:
        run(pipe, params={**PARAMS, "fail": True}, name="resumable")
    assert "mloop run resumable --from-nodes explode_if" in str(caught.value)
    resumed = run(pipe, params={**PARAMS, "fail": False}, from_nodes=[caught.value.node])
    assert _statuses(resumed) == {"explode_if": "ran", "count": "ran"}
    assert resumed.outputs == {"n": 12}


def test_a_cache_hit_restores_a_deleted_output_file(mloop_home: Path) -> None:
    pipe = Pipeline([node(f.make_frame, "params:rows", "raw")])
    catalog = {"raw": ParquetDataset(path="out/raw.parquet")}
    run(pipe, params=PARAMS, catalog=catalog)
    (mloop_home / "out" / "raw.parquet").unlink()
    again = run(pipe, params=PARAMS, catalog=catalog)
    assert _statuses(again) == {"make_frame": "cached"}
    pd.testing.assert_frame_equal(
        pd.read_parquet(mloop_home / "out" / "raw.parquet"), f.make_frame(12)
    )
