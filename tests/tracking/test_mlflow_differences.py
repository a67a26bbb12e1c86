"""Where mloop deliberately answers otherwise than MLflow: one test per difference.

Each difference is on docs/coming-from-mlflow.md with its reason; the cases where mloop
answers like MLflow are in test_mlflow_conformance.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

import mloop
from mloop.core.errors import Conflict, InvalidInput, NotFound


def _ids(found: object) -> set[str]:
    return {run.info.run_id for run in found}  # type: ignore[attr-defined]


# -- search: extensions MLflow refuses ---------------------------------------------------


def test_or_and_parentheses_are_accepted(db_url: str) -> None:
    """MLflow: 'Invalid clause(s) in filter string'."""
    with mloop.start_run() as low:
        mloop.log_metric("A", 0.05)
    with mloop.start_run() as high:
        mloop.log_metric("A", 0.5)
        mloop.log_param("B", "LR")
    found = mloop.search_runs(
        filter_string="metrics.A > 0.1 OR params.B = 'LR'", output_format="list"
    )
    assert _ids(found) == {high.info.run_id}
    found = mloop.search_runs(
        filter_string="metrics.A < 0.1 or (metrics.A > 0.1 AND params.B = 'LR')",
        output_format="list",
    )
    assert _ids(found) == {low.info.run_id, high.info.run_id}


def test_experiment_id_is_a_numeric_attribute() -> None:
    """MLflow: 'Invalid attribute key'; experiment_ids= is its way."""
    first = mloop.set_experiment("first")
    with mloop.start_run() as run:
        pass
    found = mloop.search_runs(
        search_all_experiments=True,
        filter_string=f"attributes.experiment_id = {first.experiment_id}",
        output_format="list",
    )
    assert _ids(found) == {run.info.run_id}


def test_in_and_is_null_work_on_params_and_tags() -> None:
    """MLflow accepts IN on attributes and datasets only, and has no IS NULL."""
    with mloop.start_run() as rf:
        mloop.log_param("model", "rf")
    with mloop.start_run() as lr:
        mloop.log_param("model", "lr")
        mloop.set_tag("reviewed", "yes")
    assert _ids(
        mloop.search_runs(filter_string="params.model IN ('rf', 'gbm')", output_format="list")
    ) == {rf.info.run_id}
    assert _ids(mloop.search_runs(filter_string="tags.reviewed IS NULL", output_format="list")) == {
        rf.info.run_id
    }
    assert _ids(
        mloop.search_runs(filter_string="tags.reviewed IS NOT NULL", output_format="list")
    ) == {lr.info.run_id}


def test_an_unknown_experiment_name_is_an_error_with_the_nearest_name() -> None:
    """MLflow skips unknown names and returns fewer (or no) runs, silently."""
    mloop.set_experiment("delays")
    with pytest.raises(NotFound, match="Did you mean 'delays'"):
        mloop.search_runs(experiment_names=["delay"])


def test_system_tags_are_read_back_under_mloops_names() -> None:
    """MLflow's run.data.tags has mlflow.runName; filters and set_tag accept both names."""
    with mloop.start_run(run_name="named") as run:
        pass
    tags = mloop.get_run(run.info.run_id).data.tags
    assert tags["mloop.runName"] == "named"
    assert "mlflow.runName" not in tags


# -- runs ------------------------------------------------------------------------------


def test_keyboard_interrupt_ends_the_run_killed() -> None:
    """MLflow ends it FAILED: any exception in the with block."""
    with pytest.raises(KeyboardInterrupt), mloop.start_run() as run:
        raise KeyboardInterrupt
    assert mloop.get_run(run.info.run_id).info.status == "KILLED"


def test_an_uncaught_exception_outside_a_with_block_ends_the_run_failed(mloop_home: object) -> None:
    """MLflow's exit hook ends a run left open FINISHED, whatever happened."""
    script = (
        "import mloop\n"
        "run = mloop.start_run()\n"
        "print(run.info.run_id, flush=True)\n"
        "raise SystemError('boom')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "boom" in done.stderr
    assert mloop.get_run(done.stdout.strip()).info.status == "FAILED"


def test_a_parent_that_ends_ends_its_open_children_with_the_same_status() -> None:
    """MLflow's end_run ends only the innermost run: the parent would stay RUNNING."""

    def train() -> tuple[str, str]:
        with mloop.start_run() as parent:
            child = mloop.start_run(nested=True)
            raise ValueError(f"{parent.info.run_id} {child.info.run_id}")

    with pytest.raises(ValueError, match=" ") as error:
        train()
    parent_id, child_id = str(error.value).split()
    assert mloop.get_run(child_id).info.status == "FAILED"
    assert mloop.get_run(parent_id).info.status == "FAILED"
    assert mloop.active_run() is None


def test_asyncio_tasks_have_their_own_active_runs() -> None:
    """MLflow keeps one stack per thread, shared by every task of an event loop."""

    async def task(name: str) -> str:
        with mloop.start_run(run_name=name) as run:
            await asyncio.sleep(0)
            return run.info.run_id

    async def main() -> list[str]:
        return list(await asyncio.gather(task("a"), task("b")))

    first, second = asyncio.run(main())
    assert mloop.get_run(first).info.run_name == "a"
    assert mloop.get_run(second).info.run_name == "b"


# -- values ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, "1.5"])
def test_metric_values_must_be_numbers_not_bools_or_text(value: object) -> None:
    """MLflow stores True as 1.0 (bool is a number in Python) and refuses '1.5' too."""
    with mloop.start_run(), pytest.raises(InvalidInput, match="metric values must be numbers"):
        mloop.log_metric("x", value)  # type: ignore[arg-type]


def test_params_over_6000_characters_are_refused_as_in_mlflow() -> None:
    """Same limit as MLflow; the message points to log_text for long values."""
    with mloop.start_run():
        mloop.log_param("ok", "x" * 6000)
        with pytest.raises(InvalidInput, match=r"limit is 6000\..*log_text"):
            mloop.log_param("long", "x" * 6001)


def test_a_changed_param_is_refused_at_the_call() -> None:
    """As MLflow ('Changing param values is not allowed'); across processes: see test_param_conflicts."""
    with mloop.start_run():
        mloop.log_param("lr", 0.1)
        mloop.log_param("lr", 0.1)
        with pytest.raises(Conflict, match="immutable"):
            mloop.log_param("lr", 0.2)


def test_the_default_experiment_can_be_deleted_and_then_takes_no_runs() -> None:
    """MLflow refuses to delete its experiment 0; mloop's default is an ordinary experiment."""
    with mloop.start_run() as run:
        pass
    default = run.info.experiment_id
    mloop.delete_experiment(default)
    with pytest.raises(Conflict, match="restore_experiment"):
        mloop.start_run()
    mloop.Client().restore_experiment(default)
    with mloop.start_run() as again:
        pass
    assert again.info.experiment_id == default
