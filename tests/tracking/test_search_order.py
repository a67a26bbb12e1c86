"""search_runs order: the index-driven selection returns what a full sort returns.

Runs sorted on a metric are read from the metric's index in three segments (numbers,
NaN, missing). These tests pin that to the full-sort query and to a reference sort in
Python, over ties, NaN, missing values, secondary keys and limits.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import mloop
from mloop.store import get_store
from mloop.tracking import search
from mloop.tracking.filter import parse_order_by

MODELS = ["rf", "lr", "gbm", None]


def _make_runs() -> tuple[str, list[dict[str, Any]]]:
    """40 runs with tied, NaN and missing losses, tied start times and missing params."""
    client = mloop.tracking.TrackingClient()
    experiment_id = client.create_experiment("order")
    made = []
    for index in range(40):
        start = 1_000 + index % 7  # ties on start_time too
        run_id = client.create_run(experiment_id, start_time=start).info.run_id
        kind = index % 5
        loss = None if kind == 0 else math.nan if kind == 1 else float(index * 7 % 6)
        if loss is not None:
            client.log_metric(run_id, "loss", loss)
        acc = index * 13 % 10 / 10
        client.log_metric(run_id, "acc", acc)
        model = MODELS[index % 4]
        if model is not None:
            client.log_param(run_id, "model", model)
        made.append({"run_id": run_id, "start": start, "loss": loss, "acc": acc, "model": model})
    client.tracker.flush()
    return experiment_id, made


def _reference(runs: list[dict[str, Any]], ascending: bool) -> list[str]:
    """MLflow's order on one metric: numbers, then NaN, then missing; ties by newest, id."""

    def key(run: dict[str, Any]) -> tuple[Any, ...]:
        loss = run["loss"]
        if loss is None:
            group, value = 2, 0.0
        elif math.isnan(loss):
            group, value = 1, 0.0
        else:
            group, value = 0, loss if ascending else -loss
        return (group, value, -run["start"], run["run_id"])

    return [run["run_id"] for run in sorted(runs, key=key)]


def _both_paths(
    experiment_id: str, filter_string: str, order_by: list[str], limit: int
) -> tuple[list[str], list[str]]:
    where = search._conditions([int(experiment_id)], filter_string, "ACTIVE_ONLY")
    terms = parse_order_by(order_by)
    with get_store().read() as conn:
        by_index = search._select_by_metric_index(conn, where, terms, limit)
        sorted_ = search._select_sorted(conn, where, terms, limit)
    return [row[0] for row in by_index], [row[0] for row in sorted_]


def test_both_selections_follow_mlflows_order_on_one_metric(db_url: str) -> None:
    experiment_id, made = _make_runs()
    for ascending in (True, False):
        expected = _reference(made, ascending)
        order = ["metrics.loss " + ("ASC" if ascending else "DESC")]
        for limit in (1, 3, 8, 16, 17, 24, 40, 100):
            by_index, sorted_ = _both_paths(experiment_id, "", order, limit)
            assert by_index == expected[:limit], (order, limit)
            assert sorted_ == expected[:limit], (order, limit)


CASES = [
    ("metrics.acc > 0.3", ["metrics.loss ASC"]),
    ("params.model = 'rf'", ["metrics.loss DESC"]),
    ("", ["metrics.loss ASC", "params.model DESC"]),
    ("metrics.acc >= 0.2", ["metrics.loss DESC", "metrics.acc ASC"]),
    ("", ["metrics.acc DESC", "attributes.start_time ASC"]),
    ("params.model IS NULL", ["metrics.loss ASC", "tags.missing ASC"]),
]


def test_the_index_driven_selection_equals_the_full_sort(db_url: str) -> None:
    experiment_id, _ = _make_runs()
    for filter_string, order_by in CASES:
        for limit in (1, 5, 13, 29, 40, 1000):
            by_index, sorted_ = _both_paths(experiment_id, filter_string, order_by, limit)
            assert by_index == sorted_, (filter_string, order_by, limit)
            assert len(set(by_index)) == len(by_index)


def test_search_runs_pages_through_the_same_order_at_any_max_results(db_url: str) -> None:
    experiment_id, made = _make_runs()
    expected = _reference(made, ascending=True)
    # small max_results take the index path, the default (100,000) the full sort
    for max_results in (7, 100_000):
        frame = mloop.search_runs(
            experiment_ids=[experiment_id], order_by=["metrics.loss ASC"], max_results=max_results
        )
        assert list(frame["run_id"]) == expected[:max_results]
        runs = mloop.search_runs(
            experiment_ids=[experiment_id],
            order_by=["metrics.loss ASC"],
            max_results=max_results,
            output_format="list",
        )
        assert [run.info.run_id for run in runs] == expected[:max_results]


def test_search_results_carry_every_value_of_each_run(db_url: str) -> None:
    experiment_id, made = _make_runs()
    frame = mloop.search_runs(experiment_ids=[experiment_id], order_by=["metrics.acc DESC"])
    assert len(frame) == 40
    assert frame["metrics.acc"].dtype == "float64"
    assert frame["metrics.loss"].dtype == "float64"
    by_id = {run["run_id"]: run for run in made}
    for row in frame.to_dict("records"):
        run = by_id[row["run_id"]]
        assert row["metrics.acc"] == run["acc"]
        if run["loss"] is None or math.isnan(run["loss"]):
            assert math.isnan(row["metrics.loss"])
        else:
            assert row["metrics.loss"] == run["loss"]
        if run["model"] is None:
            assert row["params.model"] is None or row["params.model"] != row["params.model"]
        else:
            assert row["params.model"] == run["model"]
    runs = mloop.search_runs(experiment_ids=[experiment_id], output_format="list")
    for found in runs:
        run = by_id[found.info.run_id]
        assert found.data.metrics["acc"] == run["acc"]
        assert ("loss" in found.data.metrics) == (run["loss"] is not None)
        assert found.data.params == ({} if run["model"] is None else {"model": run["model"]})
        assert found.data.tags["mloop.runName"] == found.info.run_name


def test_max_results_zero_returns_nothing_and_a_negative_one_is_refused() -> None:
    with mloop.start_run(log_system_info=False) as run:
        mloop.log_metric("loss", 1.0)
    experiment_id = run.info.experiment_id
    frame = mloop.search_runs(experiment_ids=[experiment_id], max_results=0)
    assert len(frame) == 0 and list(frame.columns[:2]) == ["run_id", "experiment_id"]
    assert len(mloop.search_runs(experiment_ids=[experiment_id], max_results=1)) == 1
    with pytest.raises(mloop.core.errors.InvalidInput, match="max_results -1"):
        mloop.search_runs(experiment_ids=[experiment_id], max_results=-1)
