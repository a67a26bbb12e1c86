"""Schedules and triggers: queued pipeline runs, fired by cron, by monitoring or by hand.

>>> add_schedule("training", "0 3 * * *")                    # every day at 03:00 UTC
>>> trigger("training", params={"model.max_iter": 300}, reason="drift on dep_delay")

Both end up as rows of ``pipeline_triggers``; ``mloop scheduler`` (:class:`Scheduler`)
turns due schedules into triggers and runs queued triggers one by one. A schedule's
firing for one due time has a unique key, so restarts or a second scheduler never fire
it twice; a claim is a compare-and-set on the trigger's status, so no trigger runs twice.
Firings missed while no scheduler ran are collapsed into one.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import AlreadyExists, ConfigError, InvalidInput, NotFound, did_you_mean
from mloop.core.ids import new_id

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "Schedule",
    "Trigger",
    "add_schedule",
    "claim_next",
    "fire_due",
    "get_trigger",
    "list_schedules",
    "list_triggers",
    "next_fire",
    "recover",
    "remove_schedule",
    "run_trigger",
    "trigger",
]

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


@dataclass(frozen=True)
class Schedule:
    name: str
    pipeline: str
    cron: str
    params: dict[str, Any]
    env: str | None
    runner: str | None
    enabled: bool
    next_fire_at: int
    last_fired_at: int | None
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Trigger:
    id: str
    pipeline: str
    params: dict[str, Any]
    env: str | None
    runner: str | None
    reason: str
    source: str
    schedule: str | None
    status: str
    created_at: int
    started_at: int | None
    finished_at: int | None
    run_id: str | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _store() -> Any:
    from mloop.store import get_store

    return get_store()


def _user() -> str:
    from mloop.core.config import get_settings

    return get_settings().user


def next_fire(cron: str, after_ms: int) -> int:
    """The first time (epoch ms, UTC) strictly after ``after_ms`` that ``cron`` matches.

    Raises:
        InvalidInput: ``cron`` is not a 5-field cron expression.
    """
    from croniter import croniter

    from mloop.core.clock import ms_to_datetime

    if not isinstance(cron, str) or not croniter.is_valid(cron):
        raise InvalidInput(
            f"cron expression {cron!r} is not valid; use 5 fields 'minute hour day month "
            "weekday', e.g. '0 3 * * *' for every day at 03:00 UTC."
        )
    return int(croniter(cron, ms_to_datetime(after_ms)).get_next(float) * 1000)


def _check_pipeline(pipeline: str) -> None:
    """Refuse names the project does not register (skipped when there is no project)."""
    from mloop.pipelines.project import find_pipeline

    try:
        find_pipeline(pipeline)
    except ConfigError:
        return


def add_schedule(
    pipeline: str,
    cron: str,
    *,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    env: str | None = None,
    runner: str | None = None,
) -> Schedule:
    """Run ``pipeline`` whenever ``cron`` (UTC) matches, once ``mloop scheduler`` runs.

    Example:
        >>> add_schedule("training", "0 3 * * 1", name="weekly-training")

    Raises:
        InvalidInput: a bad cron expression. NotFound: an unknown pipeline.
        AlreadyExists: a schedule of that name exists.
    """
    from sqlalchemy import insert, select

    from mloop.store.schema.pipelines import PipelineSchedule

    _check_pipeline(pipeline)
    now = now_ms()
    row = {
        "name": name or pipeline,
        "pipeline": pipeline,
        "cron": cron,
        "params": json.dumps(params or {}),
        "env": env,
        "runner": runner,
        "enabled": True,
        "next_fire_at": next_fire(cron, now),
        "last_fired_at": None,
        "created_at": now,
        "created_by": _user(),
    }
    store = _store()

    def work(conn: Connection) -> None:
        from mloop.store import audit

        exists = conn.execute(
            select(PipelineSchedule.name).where(PipelineSchedule.name == row["name"])
        ).first()
        if exists:
            raise AlreadyExists(
                f"schedule {row['name']!r} exists; remove it first (mloop schedule remove "
                f"{row['name']}) or choose another --name."
            )
        conn.execute(insert(PipelineSchedule), row)
        audit.record(
            conn,
            actor=str(row["created_by"]),
            action="pipeline.schedule.add",
            object_kind="pipeline_schedule",
            object_id=str(row["name"]),
            to_value=cron,
            details={"pipeline": pipeline, "params": params or {}},
        )

    store.transaction(work)
    return _schedule(row)


def _schedule(row: Any) -> Schedule:
    data = dict(row) if isinstance(row, dict) else dict(row._mapping)
    return Schedule(
        name=data["name"],
        pipeline=data["pipeline"],
        cron=data["cron"],
        params=json.loads(data["params"] or "{}"),
        env=data["env"],
        runner=data["runner"],
        enabled=bool(data["enabled"]),
        next_fire_at=data["next_fire_at"],
        last_fired_at=data["last_fired_at"],
        created_at=data["created_at"],
    )


def list_schedules() -> list[Schedule]:
    from sqlalchemy import select

    from mloop.store.schema.pipelines import PipelineSchedule

    with _store().read() as conn:
        rows = conn.execute(select(PipelineSchedule).order_by(PipelineSchedule.name)).all()
    return [_schedule(r) for r in rows]


def remove_schedule(name: str) -> None:
    """Delete a schedule (its past triggers stay).

    Raises:
        NotFound: no schedule has that name.
    """
    from sqlalchemy import select

    from mloop.store.schema.pipelines import PipelineSchedule

    store = _store()

    def work(conn: Connection) -> None:
        from sqlalchemy import delete

        from mloop.store import audit

        result = conn.execute(delete(PipelineSchedule).where(PipelineSchedule.name == name))
        if result.rowcount == 0:
            names = [r[0] for r in conn.execute(select(PipelineSchedule.name)).all()]
            raise NotFound(
                f"schedule {name!r} does not exist."
                + did_you_mean(name, names)
                + f" Schedules: {', '.join(names) or '(none)'}."
            )
        audit.record(
            conn,
            actor=_user(),
            action="pipeline.schedule.remove",
            object_kind="pipeline_schedule",
            object_id=name,
        )

    store.transaction(work)


def trigger(
    pipeline: str,
    params: dict[str, Any] | None = None,
    reason: str = "",
    *,
    env: str | None = None,
    runner: str | None = None,
    source: str = "api",
) -> Trigger:
    """Queue a run of ``pipeline``; ``mloop scheduler`` runs it. Monitoring calls this to retrain.

    Example:
        >>> trigger("training", params={"data.since": "2013-06-01"}, reason="drift: dep_delay")

    Raises:
        NotFound: the project registers no pipeline of that name.
    """
    from sqlalchemy import insert

    from mloop.store.schema.pipelines import PipelineTrigger

    _check_pipeline(pipeline)
    if params is not None and not isinstance(params, dict):
        raise InvalidInput(f"trigger params must be a dict, got {type(params).__name__}.")
    row = _trigger_row(pipeline, params, reason, env, runner, source, None, None)
    store = _store()

    def work(conn: Connection) -> None:
        from mloop.store import audit

        conn.execute(insert(PipelineTrigger), row)
        audit.record(
            conn,
            actor=_user(),
            action="pipeline.trigger",
            object_kind="pipeline",
            object_id=pipeline,
            reason=reason,
            details={"trigger": row["id"], "params": params or {}, "source": source},
        )

    store.transaction(work)
    return _trigger(row)


def _trigger_row(
    pipeline: str,
    params: dict[str, Any] | None,
    reason: str,
    env: str | None,
    runner: str | None,
    source: str,
    schedule: str | None,
    dedupe: str | None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "pipeline": pipeline,
        "params": json.dumps(params or {}, default=str),
        "env": env,
        "runner": runner,
        "reason": reason or "",
        "source": source,
        "schedule": schedule,
        "dedupe": dedupe,
        "status": QUEUED,
        "created_at": now_ms(),
        "claimed_by": None,
        "started_at": None,
        "finished_at": None,
        "run_id": None,
        "error": None,
    }


def _trigger(row: Any) -> Trigger:
    data = dict(row) if isinstance(row, dict) else dict(row._mapping)
    return Trigger(
        id=data["id"],
        pipeline=data["pipeline"],
        params=json.loads(data["params"] or "{}"),
        env=data["env"],
        runner=data["runner"],
        reason=data["reason"],
        source=data["source"],
        schedule=data["schedule"],
        status=data["status"],
        created_at=data["created_at"],
        started_at=data["started_at"],
        finished_at=data["finished_at"],
        run_id=data["run_id"],
        error=data["error"],
    )


def get_trigger(trigger_id: str) -> Trigger:
    from sqlalchemy import select

    from mloop.store.schema.pipelines import PipelineTrigger

    with _store().read() as conn:
        row = conn.execute(select(PipelineTrigger).where(PipelineTrigger.id == trigger_id)).first()
    if row is None:
        raise NotFound(f"trigger {trigger_id!r} does not exist.")
    return _trigger(row)


def list_triggers(status: str | None = None, limit: int = 50) -> list[Trigger]:
    from sqlalchemy import select

    from mloop.store.schema.pipelines import PipelineTrigger

    query = select(PipelineTrigger).order_by(PipelineTrigger.created_at.desc()).limit(limit)
    if status:
        query = query.where(PipelineTrigger.status == status)
    with _store().read() as conn:
        return [_trigger(r) for r in conn.execute(query).all()]


def fire_due(now: int | None = None) -> list[Trigger]:
    """Queue one trigger per due schedule and move each schedule to its next time."""
    from sqlalchemy import select, update

    from mloop.store.schema.pipelines import PipelineSchedule, PipelineTrigger

    now = now or now_ms()
    store = _store()
    with store.read() as conn:
        due = conn.execute(
            select(PipelineSchedule).where(
                PipelineSchedule.enabled.is_(True), PipelineSchedule.next_fire_at <= now
            )
        ).all()
    fired: list[Trigger] = []
    for row in due:
        schedule = _schedule(row)
        new = _trigger_row(
            schedule.pipeline,
            schedule.params,
            f"schedule {schedule.name} ({schedule.cron})",
            schedule.env,
            schedule.runner,
            f"schedule:{schedule.name}",
            schedule.name,
            f"{schedule.name}@{schedule.next_fire_at}",
        )

        def work(
            conn: Connection, schedule: Schedule = schedule, new: dict[str, Any] = new
        ) -> bool:
            moved = conn.execute(
                update(PipelineSchedule)
                .where(
                    PipelineSchedule.name == schedule.name,
                    PipelineSchedule.next_fire_at == schedule.next_fire_at,
                )
                .values(next_fire_at=next_fire(schedule.cron, now), last_fired_at=now)
            )
            if moved.rowcount != 1:
                return False  # another scheduler fired it
            store.insert_ignore(conn, PipelineTrigger.__table__, [new])
            return True

        if store.transaction(work):
            fired.append(_trigger(new))
    return fired


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_next(worker: str | None = None) -> Trigger | None:
    """Take the oldest queued trigger for this process (None when the queue is empty)."""
    from sqlalchemy import select, update

    from mloop.store.schema.pipelines import PipelineTrigger

    store = _store()
    worker = worker or _worker_id()
    while True:
        with store.read() as conn:
            row = conn.execute(
                select(PipelineTrigger.id)
                .where(PipelineTrigger.status == QUEUED)
                .order_by(PipelineTrigger.created_at, PipelineTrigger.id)
                .limit(1)
            ).first()
        if row is None:
            return None
        trigger_id = row[0]

        def work(conn: Connection, trigger_id: str = trigger_id) -> int:
            return int(
                conn.execute(
                    update(PipelineTrigger)
                    .where(PipelineTrigger.id == trigger_id, PipelineTrigger.status == QUEUED)
                    .values(status=RUNNING, claimed_by=worker, started_at=now_ms())
                ).rowcount
            )

        if store.transaction(work) == 1:
            return get_trigger(trigger_id)


def _finish(trigger_id: str, status: str, run_id: str | None, error: str | None) -> None:
    from sqlalchemy import update

    from mloop.store.schema.pipelines import PipelineTrigger

    _store().transaction(
        lambda conn: conn.execute(
            update(PipelineTrigger)
            .where(PipelineTrigger.id == trigger_id)
            .values(status=status, run_id=run_id, error=error, finished_at=now_ms())
        )
    )


def run_trigger(item: Trigger) -> Trigger:
    """Run a claimed trigger's pipeline and record the outcome on the trigger."""
    from mloop.core.errors import MloopError
    from mloop.pipelines.session import NodeFailed, run

    try:
        result = run(item.pipeline, params=item.params, env=item.env, runner=item.runner)
    except NodeFailed as exc:
        _finish(item.id, FAILED, exc.result.run_id, str(exc))
    except MloopError as exc:
        _finish(item.id, FAILED, None, str(exc))
    except Exception as exc:
        _finish(item.id, FAILED, None, f"{type(exc).__name__}: {exc}")
    else:
        _finish(item.id, SUCCEEDED, result.run_id, None)
    return get_trigger(item.id)


def recover() -> int:
    """Mark FAILED the triggers this host's dead scheduler processes left running."""
    from sqlalchemy import select

    from mloop.store.schema.pipelines import PipelineTrigger

    host = socket.gethostname()
    with _store().read() as conn:
        rows = conn.execute(
            select(PipelineTrigger.id, PipelineTrigger.claimed_by).where(
                PipelineTrigger.status == RUNNING
            )
        ).all()
    lost = 0
    for trigger_id, claimed_by in rows:
        owner_host, _, pid = str(claimed_by or "").rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            _finish(trigger_id, FAILED, None, "the scheduler stopped while this run was going")
            lost += 1
    return lost


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
