"""Tuning: every trial a child run, the best params on the parent; parallel trials on Ray."""

from __future__ import annotations

import pandas as pd
import pytest

import mloop
from mloop.core.errors import InvalidInput
from mloop.evaluation import tune


def _children(parent: str) -> pd.DataFrame:
    found = mloop.search_runs(filter_string=f"tags.mloop.parentRunId = '{parent}'")
    assert isinstance(found, pd.DataFrame)
    return found


def test_each_trial_is_a_child_run_and_the_best_params_go_on_the_parent() -> None:
    def objective(trial: object) -> float:
        x = trial.suggest_float("x", -4, 4)  # type: ignore[attr-defined]
        mloop.log_metric("x_seen", x)
        return -((x - 1.0) ** 2)

    found = tune(objective, n_trials=8, seed=1, metric="score")
    assert len(found.trials) == 8 and set(found.trials["state"]) == {"COMPLETE"}
    children = _children(found.parent_run_id)
    assert len(children) == 8 and set(children["status"]) == {"FINISHED"}
    best_child = children[children["run_id"] == found.best_run_id].iloc[0]
    assert best_child["metrics.score"] == pytest.approx(found.best_value)
    assert float(best_child["params.x"]) == pytest.approx(found.best_params["x"])
    assert best_child["metrics.x_seen"] == pytest.approx(found.best_params["x"])  # logged inside
    assert found.best_value == pytest.approx(max(found.trials["value"]))
    parent = mloop.get_run(found.parent_run_id)
    assert float(parent.data.params["x"]) == pytest.approx(found.best_params["x"])
    assert parent.data.metrics["best_score"] == pytest.approx(found.best_value)
    assert parent.data.tags["mloop.tune.best_run_id"] == found.best_run_id
    assert parent.info.status == "FINISHED"


def test_tuning_inside_an_active_run_uses_it_as_the_parent() -> None:
    with mloop.start_run(run_name="search") as run:
        found = tune(lambda t: t.suggest_int("k", 1, 5), n_trials=3, direction="minimize", seed=0)
    assert found.parent_run_id == run.info.run_id
    assert found.best_value == min(found.trials["value"])
    assert len(_children(run.info.run_id)) == 3


def test_a_failing_objective_fails_its_child_run_and_the_search() -> None:
    def objective(trial: object) -> float:
        raise ValueError("diverged")

    with pytest.raises(ValueError, match="diverged"):
        tune(objective, n_trials=2)
    runs = mloop.search_runs()
    assert isinstance(runs, pd.DataFrame)
    assert set(runs["status"]) == {"FAILED"}  # the trial and its parent


def test_tuning_arguments_are_checked() -> None:
    with pytest.raises(InvalidInput, match="n_trials 0 is not valid"):
        tune(lambda t: 0.0, n_trials=0)
    with pytest.raises(InvalidInput, match="direction 'up' is unknown"):
        tune(lambda t: 0.0, direction="up")
    with pytest.raises(InvalidInput, match="runner 'dask' is unknown"):
        tune(lambda t: 0.0, runner="dask")


@pytest.mark.ray
def test_trials_run_in_parallel_on_ray_and_report_to_one_parent() -> None:
    def objective(trial: object) -> float:
        import os

        import mloop as m

        x = trial.suggest_float("x", 0, 1)  # type: ignore[attr-defined]
        m.set_tag("pid", os.getpid())
        return x

    found = tune(objective, n_trials=4, runner="ray", parallelism=2, seed=3)
    children = _children(found.parent_run_id)
    assert len(children) == 4 and set(children["status"]) == {"FINISHED"}
    import os

    assert str(os.getpid()) not in set(children["tags.pid"])  # trials ran in Ray workers
    assert found.best_value == pytest.approx(children["metrics.objective"].max())
    assert mloop.get_run(found.parent_run_id).data.tags["mloop.tune.n_trials"] == "4"
