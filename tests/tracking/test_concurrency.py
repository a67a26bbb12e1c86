"""Active runs per thread and per asyncio task, as MLflow users expect."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import mloop
from mloop.core.errors import Conflict


def test_a_worker_thread_starts_its_own_run_while_the_main_thread_has_one_open(
    db_url: str,
) -> None:
    seen: dict[str, object] = {}

    def worker() -> None:
        seen["active_before"] = mloop.active_run()
        with mloop.start_run(run_name="worker") as run:
            mloop.log_metric("loss", 0.25)
            mloop.log_param("who", "worker")
            seen["run_id"] = run.info.run_id

    with mloop.start_run(run_name="main") as main:
        mloop.log_metric("loss", 0.75)
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert mloop.active_run() is main
        mloop.log_param("who", "main")
    assert seen["active_before"] is None
    worker_run = mloop.get_run(str(seen["run_id"]))
    main_run = mloop.get_run(main.info.run_id)
    assert worker_run.data.metrics == {"loss": 0.25}
    assert worker_run.data.params == {"who": "worker"}
    assert worker_run.info.status == "FINISHED"
    assert main_run.data.metrics == {"loss": 0.75}
    assert main_run.data.params == {"who": "main"}


def test_log_metric_in_a_worker_thread_never_writes_into_the_main_threads_run() -> None:
    started: list[str] = []

    def worker() -> None:
        mloop.log_metric("from_worker", 1.0)  # no run in this thread: starts one, like MLflow
        run = mloop.active_run()
        assert run is not None
        started.append(run.info.run_id)
        mloop.end_run()

    with mloop.start_run() as main:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert len(started) == 1 and started[0] != main.info.run_id
    assert mloop.get_run(main.info.run_id).data.metrics == {}
    assert mloop.get_run(started[0]).data.metrics == {"from_worker": 1.0}


def test_a_context_copied_into_a_thread_does_not_lend_it_the_callers_run() -> None:
    async def main() -> tuple[str, str | None]:
        with mloop.start_run() as run:
            other = await asyncio.to_thread(mloop.active_run)  # to_thread copies the context
            return run.info.run_id, None if other is None else other.info.run_id

    run_id, seen_by_thread = asyncio.run(main())
    assert seen_by_thread is None
    assert mloop.get_run(run_id).info.status == "FINISHED"


def test_a_thread_pool_logs_each_task_into_its_own_run(db_url: str) -> None:
    barrier = threading.Barrier(4)

    def task(index: int) -> str:
        with mloop.start_run(run_name=f"task-{index}") as run:
            barrier.wait(timeout=30)  # all four runs are open at once
            for step in range(20):
                mloop.log_metric("value", index * 100 + step, step=step)
            mloop.log_params({"index": index})
            mloop.set_tag("task", str(index))
            return run.info.run_id

    with ThreadPoolExecutor(max_workers=4) as pool:
        run_ids = list(pool.map(task, range(4)))
    assert len(set(run_ids)) == 4
    for index, run_id in enumerate(run_ids):
        run = mloop.get_run(run_id)
        assert run.info.run_name == f"task-{index}"
        assert run.data.params == {"index": str(index)}
        assert run.data.tags["task"] == str(index)
        history = mloop.get_metric_history(run_id, "value")
        assert [(m.step, m.value) for m in history] == [
            (step, float(index * 100 + step)) for step in range(20)
        ]


def test_asyncio_tasks_log_into_their_own_runs_at_once(db_url: str) -> None:
    async def task(index: int, started: asyncio.Event, count: list[int]) -> str:
        with mloop.start_run(run_name=f"task-{index}") as run:
            count[0] += 1
            if count[0] == 3:
                started.set()
            await started.wait()  # every task's run is open before any logs
            for step in range(5):
                mloop.log_metric("value", index + step / 10, step=step)
                await asyncio.sleep(0)  # let the other tasks log in between
            assert mloop.active_run() is run
            return run.info.run_id

    async def main() -> list[str]:
        started = asyncio.Event()
        count = [0]
        return list(await asyncio.gather(*(task(i, started, count) for i in range(3))))

    run_ids = asyncio.run(main())
    assert len(set(run_ids)) == 3
    for index, run_id in enumerate(run_ids):
        history = mloop.get_metric_history(run_id, "value")
        assert [m.value for m in history] == [index + step / 10 for step in range(5)]
        assert mloop.get_run(run_id).info.status == "FINISHED"
    assert mloop.active_run() is None


def test_a_task_sees_the_run_of_the_code_that_created_it_and_nests_under_it() -> None:
    async def child() -> str:
        mloop.log_metric("from_child_task", 2.0)  # the enclosing run, as after an await
        with pytest.raises(Conflict, match="already active"):
            mloop.start_run()
        with mloop.start_run(nested=True) as nested:
            return nested.info.run_id

    async def main() -> tuple[str, str]:
        with mloop.start_run() as parent:
            nested_id = await asyncio.create_task(child())
            assert mloop.active_run() is parent  # the task's runs never touched this stack
            return parent.info.run_id, nested_id

    parent_id, nested_id = asyncio.run(main())
    assert mloop.get_run(parent_id).data.metrics == {"from_child_task": 2.0}
    assert mloop.get_run(nested_id).info.parent_run_id == parent_id
    assert mloop.get_run(nested_id).info.status == "FINISHED"


_THREADS_AT_EXIT = """
import sys, threading, time, mloop

def finished():
    mloop.log_metric("done", 1.0)  # starts a run in this thread and leaves it open

def endless():
    with mloop.start_run():
        print(mloop.active_run().info.run_id, flush=True)
        time.sleep(600)

worker = threading.Thread(target=finished)
worker.start()
worker.join()
print(mloop.last_active_run() is None, flush=True)
daemon = threading.Thread(target=endless, daemon=True)
daemon.start()
time.sleep(1)
"""


def test_runs_left_open_by_other_threads_end_at_exit_by_what_happened_to_them() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _THREADS_AT_EXIT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split()
    assert lines[0] == "True"  # the main thread never had a run
    endless_id = lines[1]
    runs = mloop.search_runs(search_all_experiments=True, output_format="list")
    status = {run.info.run_id: run.info.status for run in runs}  # type: ignore[union-attr]
    assert status.pop(endless_id) == "KILLED"  # cut short by the exit
    assert list(status.values()) == ["FINISHED"]  # its thread had returned
