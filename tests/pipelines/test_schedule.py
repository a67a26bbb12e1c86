"""Schedules and triggers: fired once per due time, run by the scheduler, safe across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.core.clock import now_ms
from mloop.core.errors import AlreadyExists, InvalidInput, NotFound
from mloop.pipelines import cache as node_cache
from mloop.pipelines.run_requests import (
    claim_next,
    get_run_request,
    list_run_requests,
    recover,
    request_run,
)
from mloop.pipelines.schedule import (
    add_schedule,
    fire_due,
    list_schedules,
    next_fire,
    remove_schedule,
)
from mloop.pipelines.scheduler import Scheduler
from mloop.store import audit, get_store

PROJECT = """
from mloop.pipelines import Pipeline, node


def double(n):
    return n * 2


def register_pipelines():
    return {"nightly": Pipeline([node(double, "params:n", "doubled")])}
"""


@pytest.fixture
def project(mloop_home: Path) -> Path:
    """A project registering one pipeline."""
    (mloop_home / "mloop.toml").write_text(
        '[pipelines]\nmodule = "sched_project"\n[params]\nn = 4\n'
    )
    (mloop_home / "sched_project.py").write_text(PROJECT)
    return mloop_home


def test_cron_times_are_computed_in_utc_and_bad_cron_is_refused() -> None:
    start = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC
    assert next_fire("0 3 * * *", start) == 1_700_017_200_000  # 2023-11-15 03:00 UTC
    with pytest.raises(InvalidInput, match=r"cron expression 'every day' is not valid"):
        next_fire("every day", start)


def test_schedules_are_added_listed_and_removed_with_audit(project: Path) -> None:
    before = now_ms()
    added = add_schedule("nightly", "*/5 * * * *", params={"n": 3})
    assert [s.name for s in list_schedules()] == ["nightly"]
    five_minutes = 5 * 60 * 1000
    assert added.next_fire_at % five_minutes == 0  # on a five-minute boundary (UTC)
    assert before < added.next_fire_at <= before + five_minutes  # the next one, not a later one
    with pytest.raises(AlreadyExists, match="schedule 'nightly' exists"):
        add_schedule("nightly", "0 * * * *")
    with pytest.raises(
        NotFound, match=r"pipeline 'nigthly' is not registered. Did you mean 'nightly'"
    ):
        add_schedule("nigthly", "0 * * * *", name="other")
    with pytest.raises(NotFound, match=r"Did you mean 'nightly'"):
        remove_schedule("nightyl")
    remove_schedule("nightly")
    assert list_schedules() == []
    actions = [e.action for e in audit.entries(get_store(), object_kind="pipeline_schedule")]
    assert actions == ["pipeline.schedule.remove", "pipeline.schedule.add"]


def test_a_due_schedule_fires_once_even_when_fired_again_or_twice(
    db_url: str, project: Path
) -> None:
    schedule = add_schedule("nightly", "0 3 * * *")
    due = schedule.next_fire_at
    fired = fire_due(now=due + 1000)
    assert len(fired) == 1 and fired[0].source == "schedule:nightly"
    assert fire_due(now=due + 2000) == []  # a restarted or second scheduler finds nothing due
    assert list_schedules()[0].next_fire_at == due + 24 * 3600 * 1000
    assert len(list_run_requests()) == 1


def test_the_scheduler_runs_queued_triggers_and_records_the_outcome(project: Path) -> None:
    queued = request_run(
        "nightly", params={"n": 21}, reason="drift on dep_delay", source="monitoring"
    )
    assert queued.status == "queued"
    finished = Scheduler(poll_interval=0, isolated=False).tick()
    assert [t.id for t in finished] == [queued.id]
    done = get_run_request(queued.id)
    assert done.status == "succeeded"
    pipeline_run = mloop.get_run(done.run_id or "")
    assert pipeline_run.info.status == "FINISHED"
    assert pipeline_run.data.tags["mloop.pipeline"] == "nightly"
    assert pipeline_run.data.metrics["nodes_ran"] == 1
    # the trigger's parameter reached the node: double(21), read back from the cache
    (outputs,) = node_cache.entries_of("nightly").values()
    assert node_cache.load_value(outputs["doubled"].artifact) == 42
    assert claim_next() is None  # nothing runs twice
    entry = audit.entries(get_store(), action="pipeline.trigger")[0]
    assert entry.reason == "drift on dep_delay" and entry.details["source"] == "monitoring"


def test_a_failing_triggered_run_in_its_own_process_is_marked_failed_with_its_error(
    project: Path,
) -> None:
    broken = request_run("nightly", params={"n": None}, reason="bad params")
    Scheduler(poll_interval=0).tick()
    outcome = get_run_request(broken.id)
    assert outcome.status == "failed"
    assert "TypeError" in (outcome.error or "") and "--from-nodes double" in (outcome.error or "")


def test_triggers_left_running_by_a_dead_scheduler_are_not_run_again(project: Path) -> None:
    lost = request_run("nightly", reason="before a crash")
    claimed = claim_next(worker="localhost-that-died:999999")
    assert claimed is not None and claimed.id == lost.id
    import socket

    claim_next(worker=f"{socket.gethostname()}:999999")  # nothing left to claim
    from sqlalchemy import update

    from mloop.store.schema.pipelines import PipelineTrigger

    get_store().transaction(
        lambda conn: conn.execute(
            update(PipelineTrigger)
            .where(PipelineTrigger.id == lost.id)
            .values(claimed_by=f"{socket.gethostname()}:999999")
        )
    )
    assert recover() == 1
    assert get_run_request(lost.id).status == "failed"
    assert Scheduler(poll_interval=0, isolated=False).tick() == []


def test_triggering_an_unknown_pipeline_is_refused(project: Path) -> None:
    with pytest.raises(NotFound, match=r"pipeline 'nightyl' is not registered"):
        request_run("nightyl")
