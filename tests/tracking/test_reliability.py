"""Concurrent writers, killed processes and write-behind: nothing is lost, nothing hangs."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mloop

SECONDS = 10.0


def _logging_worker(index: int, seconds: float) -> tuple[str, int, int]:
    """Log params, tags and metrics for ``seconds``; return the run id, the steps and warnings."""
    import mloop as m

    warnings = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    logging.getLogger("mloop").addHandler(Count(level=logging.WARNING))
    m.set_experiment("concurrent")
    deadline = time.monotonic() + seconds
    step = 0
    with m.start_run(run_name=f"worker-{index}") as run:
        m.log_param("worker", index)
        while time.monotonic() < deadline:
            m.log_metric("value", float(step), step=step)
            m.log_metric("twice", 2.0 * step, step=step)
            if step % 100 == 0:
                m.set_tag("progress", step)
            time.sleep(0.0005)  # about 1,000 steps a second per worker: a busy training loop
            step += 1
    return run.info.run_id, step, len(warnings)


def test_four_processes_logging_at_once_lose_nothing(db_url: str) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_logging_worker, [(i, SECONDS) for i in range(4)])
    for run_id, steps, warnings in results:
        assert warnings == 0, "a worker met a storage error"
        run = mloop.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metrics == {"value": steps - 1.0, "twice": 2.0 * (steps - 1)}
        history = mloop.get_metric_history(run_id, "value")
        assert [m.step for m in history] == list(range(steps))
        assert [m.value for m in history] == [float(s) for s in range(steps)]
        assert run.data.params["worker"] in {"0", "1", "2", "3"}
    assert sum(steps for _, steps, _ in results) > 4 * 1000


_KILLED_CHILD = """
import sys, time, mloop
with mloop.start_run(run_name="doomed") as run:
    mloop.log_metric("before_kill", 1.0)
    mloop.flush()
    print(run.info.run_id, flush=True)
    time.sleep(600)
"""


def _start_child(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    assert len(run_id) == 32, run_id
    return child, run_id


def test_a_killed_process_leaves_its_run_failed_after_the_heartbeat_timeout(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**os.environ, "MLOOP_HEARTBEAT_INTERVAL": "0.2"}
    child, run_id = _start_child(env)
    monkeypatch.setenv("MLOOP_HEARTBEAT_TIMEOUT", "1.5")
    time.sleep(2.0)
    assert mloop.get_run(run_id).info.status == "RUNNING", "a live process keeps its run alive"
    child.send_signal(signal.SIGKILL)
    child.wait()
    time.sleep(2.0)
    run = mloop.get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"before_kill": 1.0}
    assert run.info.end_time is not None


def test_an_uncaught_exception_outside_a_with_block_marks_the_run_failed(mloop_home: Path) -> None:
    script = "import mloop\nrun = mloop.start_run()\nprint(run.info.run_id, flush=True)\nmloop.log_metric('x', 1)\nraise SystemError('crash')\n"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ)
    )
    assert completed.returncode == 1
    run_id = completed.stdout.strip()
    run = mloop.get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"x": 1.0}


def test_a_script_that_ends_normally_finishes_its_open_run_and_drains_the_buffer(
    mloop_home: Path,
) -> None:
    script = (
        "import mloop\nrun = mloop.start_run()\nprint(run.info.run_id, flush=True)\n"
        "for i in range(5000): mloop.log_metric('m', i, step=i)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ)
    )
    assert completed.returncode == 0, completed.stderr
    run = mloop.get_run(completed.stdout.strip())
    assert run.info.status == "FINISHED"
    assert len(mloop.get_metric_history(run.info.run_id, "m")) == 5000


def test_values_are_buffered_until_flushed(mloop_home: Path) -> None:
    from mloop.tracking.tracker import get_tracker

    with mloop.start_run() as run:
        tracker = get_tracker()
        tracker.writer.flush_interval = 60.0  # keep the background writer quiet
        mloop.log_metric("buffered", 1.0)
        assert tracker.writer.pending() >= 1
        mloop.flush()
        assert tracker.writer.pending() == 0
    assert mloop.get_run(run.info.run_id).data.metrics == {"buffered": 1.0}


def test_values_that_cannot_be_written_at_exit_are_saved_not_lost(mloop_home: Path) -> None:
    import json

    from mloop.store.db import MetadataStore
    from mloop.tracking.writer import Writer

    broken = MetadataStore("sqlite:///:memory:", migrate=False)  # no tables: every write fails
    writer = Writer(broken, flush_interval=60, heartbeat_interval=60)
    writer.metric(("r" * 32, "loss", 0.5, 1, 123))
    writer.param(("r" * 32, "lr", "0.1"))
    writer.close(spill_dir=str(mloop_home / "unflushed"))
    saved = list((mloop_home / "unflushed").glob("*.json"))
    assert len(saved) == 1
    payload = json.loads(saved[0].read_text())
    assert payload["metrics"] == [["r" * 32, "loss", 0.5, 1, 123]]
    assert payload["params"] == [["r" * 32, "lr", "0.1"]]
