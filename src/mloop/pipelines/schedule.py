"""Schedules: cron expressions that queue pipeline runs (triggers) when due.

>>> add_schedule("training", "0 3 * * *")                    # every day at 03:00 UTC

``mloop scheduler`` (:class:`~mloop.pipelines.scheduler.Scheduler`) turns due schedules
into triggers (:mod:`mloop.pipelines.run_requests`) and runs them. A schedule's firing for
one due time has a unique key, so restarts or a second scheduler never fire it twice.
Firings missed while no scheduler ran are collapsed into one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.clock import ms_to_datetime, now_ms
from mloop.core.errors import AlreadyExists, InvalidInput, NotFound, did_you_mean
from mloop.core.principal import current_actor
from mloop.pipelines.run_requests import (
    RunRequest,
    check_pipeline,
    new_request_row,
    request_from_row,
)
from mloop.store import audit, get_store
from mloop.store.schema.pipelines import PipelineSchedule, PipelineTrigger

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "Schedule",
    "add_schedule",
    "check_cron",
    "fire_due",
    "last_fire",
    "list_schedules",
    "next_fire",
    "remove_schedule",
]


@dataclass(frozen=True)
class Schedule:
    """A pipeline run on a cron expression; times in epoch milliseconds."""

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


def check_cron(cron: str) -> str:
    """``cron`` when it is a 5-field cron expression (UTC).

    The one cron mechanism of mloop: pipeline schedules and the retraining loop's
    ``Schedule`` trigger both read their expressions through this module.

    Raises:
        InvalidInput: ``cron`` is not a 5-field cron expression.
    """
    from croniter import croniter

    if not isinstance(cron, str) or not croniter.is_valid(cron):
        raise InvalidInput(
            f"cron expression {cron!r} is not valid; use 5 fields "
            "'minute hour day month weekday', e.g. '0 3 * * *' for every day at 03:00 UTC."
        )
    return cron


def next_fire(cron: str, after_ms: int) -> int:
    """The first time (epoch ms, UTC) strictly after ``after_ms`` that ``cron`` matches.

    Raises:
        InvalidInput: ``cron`` is not a 5-field cron expression.
    """
    from croniter import croniter

    check_cron(cron)
    return int(croniter(cron, ms_to_datetime(after_ms)).get_next(float) * 1000)


def last_fire(cron: str, at_ms: int) -> int:
    """The latest time (epoch ms, UTC) strictly before ``at_ms`` that ``cron`` matches.

    Raises:
        InvalidInput: ``cron`` is not a 5-field cron expression.
    """
    from croniter import croniter

    check_cron(cron)
    return int(croniter(cron, ms_to_datetime(at_ms)).get_prev(float) * 1000)


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

    check_pipeline(pipeline)
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
        "created_by": current_actor(),
    }
    store = get_store()

    def work(conn: Connection) -> None:
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
    """Every pipeline schedule, by name."""
    from sqlalchemy import select

    with get_store().read() as conn:
        rows = conn.execute(select(PipelineSchedule).order_by(PipelineSchedule.name)).all()
    return [_schedule(r) for r in rows]


def remove_schedule(name: str) -> None:
    """Delete a schedule (its past triggers stay).

    Raises:
        NotFound: no schedule has that name.
    """
    from sqlalchemy import select

    store = get_store()

    def work(conn: Connection) -> None:
        from sqlalchemy import delete

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
            actor=current_actor(),
            action="pipeline.schedule.remove",
            object_kind="pipeline_schedule",
            object_id=name,
        )

    store.transaction(work)


def fire_due(now: int | None = None) -> list[RunRequest]:
    """Queue one run request per due schedule and move each schedule to its next time."""
    from sqlalchemy import select, update

    now = now or now_ms()
    store = get_store()
    with store.read() as conn:
        due = conn.execute(
            select(PipelineSchedule).where(
                PipelineSchedule.enabled.is_(True), PipelineSchedule.next_fire_at <= now
            )
        ).all()
    fired: list[RunRequest] = []
    for row in due:
        schedule = _schedule(row)
        new = new_request_row(
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
            fired.append(request_from_row(new))
    return fired
