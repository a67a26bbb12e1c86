"""A param two processes log with different values: the one that lost is told, on both stores."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import mloop
from mloop.core.errors import Conflict
from mloop.tracking.tracker import get_tracker

_OTHER_PROCESS = """
import sys, mloop
client = mloop.Client()
client.log_param(sys.argv[1], "lr", "0.2")
mloop.flush()
"""


def _other_process_logs_lr(run_id: str) -> None:
    """Another process stores ``lr = 0.2`` for the run (same store, via the environment)."""
    subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, run_id],
        check=True,
        env=os.environ.copy(),
        timeout=120,
    )


@pytest.fixture
def slow_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background flush before the test asks for one: the race is played in order."""
    monkeypatch.setenv("MLOOP_FLUSH_INTERVAL", "3600")


def test_the_losing_process_gets_a_conflict_at_end_run(db_url: str, slow_flush: None) -> None:
    run = mloop.start_run()
    mloop.flush()  # the run exists for the other process
    mloop.log_param("lr", "0.1")  # buffered: the store has no lr yet, so the call passes
    mloop.log_metric("loss", 0.5)
    _other_process_logs_lr(run.info.run_id)  # ... and the other process stores its lr first
    with pytest.raises(Conflict, match=r"param 'lr' of run \w+ is '0.2' .*'0.1' was not stored"):
        mloop.end_run()
    stored = mloop.get_run(run.info.run_id)
    assert stored.data.params == {"lr": "0.2"}
    assert stored.data.metrics == {"loss": 0.5}  # the rest of the batch is kept
    assert stored.info.status == "FINISHED"
    assert mloop.active_run() is None
    mloop.flush()  # told once: nothing left to raise


def test_a_conflict_met_by_the_background_writer_is_raised_by_the_next_flush(
    db_url: str, slow_flush: None
) -> None:
    run = mloop.start_run()
    mloop.flush()
    mloop.log_param("lr", "0.1")
    _other_process_logs_lr(run.info.run_id)
    writer = get_tracker().writer
    writer._wake.set()  # let the background thread write the batch now
    deadline = time.monotonic() + 30
    while (writer.pending() or not writer.conflicts) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.conflicts, "the background flush did not meet the conflict"
    with pytest.raises(Conflict, match=r"'0.1' was not stored"):
        mloop.flush()
    mloop.log_param("lr2", "0.3")
    _other_process_logs_lr(run.info.run_id)  # the same value again: no conflict
    with pytest.raises(Conflict, match=r"already '0.2'"):  # now known here: refused at the call
        mloop.log_param("lr", "0.4")
    mloop.end_run()
    assert mloop.get_run(run.info.run_id).data.params == {"lr": "0.2", "lr2": "0.3"}
