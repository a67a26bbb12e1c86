"""The write-behind writer: batches reach the store whole, in order, and flush means written."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

import mloop
from mloop.core.errors import InvalidInput
from mloop.store import get_store
from mloop.tracking import runs
from mloop.tracking.tracker import get_tracker


def _stored_metric_rows(run_id: str) -> int:
    """Committed history rows, read without going through the tracker (which would flush)."""
    from sqlalchemy import func, select

    from mloop.store.schema.tracking import MetricChunk

    with get_store().read() as conn:
        query = select(func.coalesce(func.sum(MetricChunk.count), 0)).where(
            MetricChunk.run_id == run_id
        )
        return int(conn.execute(query).scalar_one())


def test_flush_waits_for_a_batch_the_background_thread_is_still_writing(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = mloop.start_run(log_system_info=False)
    tracker = get_tracker()
    tracker.writer.flush_interval = 60.0  # only our threads flush
    writing, release = threading.Event(), threading.Event()
    real_write = runs.write_batch

    def slow_write(*args: Any) -> list[str]:
        writing.set()
        release.wait(10)
        return real_write(*args)

    monkeypatch.setattr(runs, "write_batch", slow_write)
    mloop.log_metric("loss", 0.5)
    background = threading.Thread(target=tracker.writer.flush)
    background.start()
    assert writing.wait(10)  # the batch has left the buffer and is being written
    assert tracker.writer.pending() == 0
    releaser = threading.Timer(0.3, release.set)
    releaser.start()
    mloop.flush()
    # flush returned only after the in-flight batch was released and committed
    assert release.is_set()
    assert _stored_metric_rows(run.info.run_id) == 1
    background.join()
    mloop.end_run()


def test_a_large_batch_with_nan_and_infinities_round_trips(db_url: str) -> None:
    specials = [math.nan, math.inf, -math.inf]
    with mloop.start_run(log_system_info=False) as run:
        for step in range(600):  # one batch of many rows through the driver's bulk path
            value = specials[step % 3] if step % 50 == 0 else step / 7
            mloop.log_metric("loss", value, step=step, timestamp=1_700_000_000_000 + step)
        mloop.log_metric("last", math.nan, step=599)
    history = mloop.get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == list(range(600))
    assert [m.timestamp for m in history] == [1_700_000_000_000 + s for s in range(600)]
    for metric in history:
        if metric.step % 50 == 0:
            expected = specials[metric.step % 3]
            assert (math.isnan(metric.value) and math.isnan(expected)) or metric.value == expected
        else:
            assert metric.value == metric.step / 7
    latest = mloop.get_run(run.info.run_id).data.metrics
    assert latest["loss"] == 599 / 7
    assert math.isnan(latest["last"])


def test_the_latest_value_in_one_batch_is_at_the_highest_step_then_the_latest_time(
    db_url: str,
) -> None:
    with mloop.start_run(log_system_info=False) as run:
        mloop.log_metric("a", 1.0, step=3, timestamp=10)
        mloop.log_metric("a", 2.0, step=3, timestamp=30)
        mloop.log_metric("a", 3.0, step=3, timestamp=20)
        mloop.log_metric("a", 4.0, step=1, timestamp=99)
        mloop.log_metric("b", 5.0, step=0, timestamp=5)
    assert mloop.get_run(run.info.run_id).data.metrics == {"a": 2.0, "b": 5.0}


def test_values_of_several_runs_in_one_batch_go_to_their_own_run(db_url: str) -> None:
    client = mloop.tracking.TrackingClient()
    experiment_id = client.create_experiment("many")
    ids = [client.create_run(experiment_id).info.run_id for _ in range(3)]
    for step in range(100):
        for index, run_id in enumerate(ids):
            client.log_metric(run_id, "m", index * 1000 + step, step=step)
    for index, run_id in enumerate(ids):
        history = client.get_metric_history(run_id, "m")
        assert [m.value for m in history] == [index * 1000 + s for s in range(100)]
        assert client.get_run(run_id).data.metrics == {"m": index * 1000 + 99}


def test_timestamps_are_integer_milliseconds_and_zero_is_kept() -> None:
    with mloop.start_run(log_system_info=False) as run:
        with pytest.raises(InvalidInput, match=r"timestamp 1\.5 must be an integer"):
            mloop.log_metric("x", 1.0, timestamp=1.5)  # type: ignore[arg-type]
        mloop.log_metric("x", 1.0, timestamp=0)
        mloop.log_metric("y", 1.0)
    assert [m.timestamp for m in mloop.get_metric_history(run.info.run_id, "x")] == [0]
    stamp = mloop.get_metric_history(run.info.run_id, "y")[0].timestamp
    assert stamp >= run.info.start_time


def test_a_run_created_with_a_past_start_time_is_not_taken_for_dead(db_url: str) -> None:
    client = mloop.tracking.TrackingClient()
    experiment_id = client.create_experiment("imported")
    run = client.create_run(experiment_id, start_time=1_000)
    stored = client.get_run(run.info.run_id)
    assert stored.info.start_time == 1_000
    assert stored.info.status == "RUNNING"


def _stored_status(run_id: str) -> str | None:
    """A run's committed status, read without going through the tracker (which would flush)."""
    from sqlalchemy import select

    from mloop.store.schema.tracking import Run

    with get_store().read() as conn:
        found = conn.execute(select(Run.status).where(Run.run_id == run_id)).scalar()
        return str(found) if found is not None else None


def test_new_runs_are_written_behind_and_reads_see_them(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_FLUSH_INTERVAL", "60")  # only explicit flushes write
    run = mloop.start_run(log_system_info=False)
    assert _stored_status(run.info.run_id) is None  # not written yet...
    assert mloop.get_run(run.info.run_id).info.status == "RUNNING"  # ...but a read flushes
    assert _stored_status(run.info.run_id) == "RUNNING"
    mloop.end_run()
    assert _stored_status(run.info.run_id) == "FINISHED"  # end_run waits for its commit


def test_a_run_started_with_synchronous_false_ends_with_the_next_flush(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_FLUSH_INTERVAL", "60")
    parent = mloop.start_run(log_system_info=False)
    with mloop.start_run(nested=True, synchronous=False, log_system_info=False) as child:
        mloop.log_metric("loss", 0.5)
    # a failing child: FAILED, also written behind
    with (
        pytest.raises(ZeroDivisionError),
        mloop.start_run(nested=True, synchronous=False, log_system_info=False) as broken,
    ):
        raise ZeroDivisionError
    assert mloop.active_run() is parent
    assert _stored_status(child.info.run_id) is None and _stored_metric_rows(child.info.run_id) == 0
    mloop.end_run()  # the parent's end commits its children's values and ends first
    assert _stored_status(child.info.run_id) == "FINISHED"
    assert _stored_status(broken.info.run_id) == "FAILED"
    assert _stored_metric_rows(child.info.run_id) == 1
    assert mloop.get_run(child.info.run_id).data.metrics == {"loss": 0.5}


def test_a_run_ended_behind_can_be_resumed_at_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_FLUSH_INTERVAL", "60")
    with mloop.start_run(synchronous=False, log_system_info=False) as run:
        mloop.log_metric("loss", 0.5)
    assert _stored_status(run.info.run_id) is None  # created and ended, all still buffered
    with mloop.start_run(run_id=run.info.run_id) as resumed:
        mloop.log_metric("loss", 0.25, step=1)
    assert resumed.info.run_id == run.info.run_id
    assert [m.value for m in mloop.get_metric_history(run.info.run_id, "loss")] == [0.5, 0.25]
    assert _stored_status(run.info.run_id) == "FINISHED"
