"""Run requests: queued requests to run a pipeline, from schedules, monitoring or by hand.

(Called "triggers" before; a retraining *trigger* is a condition of :mod:`mloop.loop`.)

>>> request_run("training", params={"model.max_iter": 300}, reason="drift on dep_delay")

A request is claimed with a compare-and-set on its status, so no request runs twice;
``mloop scheduler`` runs them (see :mod:`mloop.pipelines.scheduler`). Triggers a dead
scheduler on this host left running are marked failed by :func:`recover`, not run again.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import ConfigError, InvalidInput, NotFound
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.pipelines.project import find_pipeline
from mloop.store import audit, get_store
from mloop.store.schema.pipelines import PipelineTrigger

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "FAILED",
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "RunRequest",
    "claim_next",
    "finish_run_request",
    "get_run_request",
    "list_run_requests",
    "recover",
    "request_run",
]

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


@dataclass(frozen=True)
class RunRequest:
    """A request to run a pipeline (from a schedule, monitoring or by hand) and how it went.

    ``status`` goes ``queued`` → ``running`` → ``succeeded`` or ``failed``; times in epoch
    milliseconds; ``run_id`` is the tracking run of the pipeline run.
    """

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


def check_pipeline(pipeline: str) -> None:
    """Refuse names the project does not register (skipped when there is no project)."""
    try:
        find_pipeline(pipeline)
    except ConfigError:
        return


def request_run(
    pipeline: str,
    params: dict[str, Any] | None = None,
    reason: str = "",
    *,
    env: str | None = None,
    runner: str | None = None,
    source: str = "api",
) -> RunRequest:
    """Queue a run of ``pipeline``; ``mloop scheduler`` runs it. Monitoring calls this to retrain.

    Example:
        >>> request_run("training", params={"data.since": "2013-06-01"}, reason="drift: dep_delay")

    Raises:
        NotFound: the project registers no pipeline of that name.
    """
    from sqlalchemy import insert

    check_pipeline(pipeline)
    if params is not None and not isinstance(params, dict):
        raise InvalidInput(f"run request params must be a dict, got {type(params).__name__}.")
    row = new_request_row(pipeline, params, reason, env, runner, source, None, None)
    store = get_store()

    def work(conn: Connection) -> None:
        conn.execute(insert(PipelineTrigger), row)
        audit.record(
            conn,
            actor=current_actor(),
            action="pipeline.trigger",
            object_kind="pipeline",
            object_id=pipeline,
            reason=reason,
            details={"trigger": row["id"], "params": params or {}, "source": source},
        )

    store.transaction(work)
    return request_from_row(row)


def new_request_row(
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


def request_from_row(row: Any) -> RunRequest:
    data = dict(row) if isinstance(row, dict) else dict(row._mapping)
    return RunRequest(
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


def get_run_request(request_id: str) -> RunRequest:
    """A pipeline run request by id, with its status.

    Raises:
        NotFound: no run request has this id.
    """
    from sqlalchemy import select

    with get_store().read() as conn:
        row = conn.execute(select(PipelineTrigger).where(PipelineTrigger.id == request_id)).first()
    if row is None:
        raise NotFound(f"run request {request_id!r} does not exist.")
    return request_from_row(row)


def list_run_requests(status: str | None = None, limit: int = 50) -> list[RunRequest]:
    """The newest pipeline run requests, optionally only those with ``status``."""
    from sqlalchemy import select

    query = select(PipelineTrigger).order_by(PipelineTrigger.created_at.desc()).limit(limit)
    if status:
        query = query.where(PipelineTrigger.status == status)
    with get_store().read() as conn:
        return [request_from_row(r) for r in conn.execute(query).all()]


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_next(worker: str | None = None) -> RunRequest | None:
    """Take the oldest queued run request for this process (None when the queue is empty)."""
    from sqlalchemy import select, update

    store = get_store()
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
        request_id = row[0]

        def work(conn: Connection, request_id: str = request_id) -> int:
            return int(
                conn.execute(
                    update(PipelineTrigger)
                    .where(PipelineTrigger.id == request_id, PipelineTrigger.status == QUEUED)
                    .values(status=RUNNING, claimed_by=worker, started_at=now_ms())
                ).rowcount
            )

        if store.transaction(work) == 1:
            return get_run_request(request_id)


def finish_run_request(request_id: str, status: str, run_id: str | None, error: str | None) -> None:
    from sqlalchemy import update

    get_store().transaction(
        lambda conn: conn.execute(
            update(PipelineTrigger)
            .where(PipelineTrigger.id == request_id)
            .values(status=status, run_id=run_id, error=error, finished_at=now_ms())
        )
    )


def recover() -> int:
    """Mark FAILED the triggers this host's dead scheduler processes left running."""
    from sqlalchemy import select

    host = socket.gethostname()
    with get_store().read() as conn:
        rows = conn.execute(
            select(PipelineTrigger.id, PipelineTrigger.claimed_by).where(
                PipelineTrigger.status == RUNNING
            )
        ).all()
    lost = 0
    for request_id, claimed_by in rows:
        owner_host, _, pid = str(claimed_by or "").rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            finish_run_request(
                request_id, FAILED, None, "the scheduler stopped while this run was going"
            )
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
