"""``/api/v1/runs``: create, get, log in batches, end, search with paging, metric history,
delete and restore.

``POST /runs/batch`` takes what one flush of a client's write-behind buffer holds (new
runs, params, metrics, tags, ends) and writes it in one transaction; with an
``Idempotency-Key`` header a retried batch is written once.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from mloop.core.clock import now_ms
from mloop.core.errors import Conflict, InvalidInput
from mloop.core.ids import new_id
from mloop.core.principal import Principal
from mloop.server.api import idempotency, scoping
from mloop.server.auth import read, write
from mloop.store import get_artifacts, get_store
from mloop.tracking import experiments, runs
from mloop.tracking.entities import STATUSES, TERMINAL, Run
from mloop.tracking.search import search
from mloop.tracking.system_tags import RUN_NAME, canonical
from mloop.tracking.tracker import MAX_PARAM, as_float, check_key

router = APIRouter(prefix="/api/v1", tags=["runs"])
Reader = Annotated[Principal, Depends(read)]
Writer = Annotated[Principal, Depends(write)]
IdempotencyKey = Annotated[str | None, Header(alias=idempotency.HEADER)]
MAX_PAGE = 1000
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class NewRun(BaseModel):
    experiment_id: str
    run_id: str | None = Field(
        None, pattern=r"^[0-9a-f]{32}$", description="client-chosen id: a retried create is one run"
    )
    run_name: str | None = Field(None, max_length=250)
    tags: dict[str, str] = Field(default_factory=dict)
    start_time: Int64 | None = None
    parent_run_id: str | None = Field(None, max_length=32)


class RunEnd(BaseModel):
    status: str = Field(description=f"one of {', '.join(STATUSES)}")
    end_time: Int64 | None = None


class Batch(BaseModel):
    """One flush: new runs, then params, metrics and tags, then ends (all in one transaction)."""

    created: list[NewRun] = Field(default_factory=list, max_length=10_000)
    params: list[tuple[str, str, str]] = Field(default_factory=list, max_length=100_000)
    metrics: list[tuple[str, str, float | None, Int64, Int64]] = Field(
        default_factory=list, max_length=1_000_000, description="run_id, key, value, step, ms"
    )
    tags: list[tuple[str, str, str]] = Field(default_factory=list, max_length=100_000)
    ended: list[tuple[str, str, Int64]] = Field(default_factory=list, max_length=10_000)


class SearchRuns(BaseModel):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str = ""
    order_by: list[str] = Field(default_factory=list)
    max_results: int = Field(100, ge=1, le=MAX_PAGE)
    page_token: str | None = None
    run_view_type: str = "ACTIVE_ONLY"


def run_json(run: Run) -> dict[str, Any]:
    return run.to_dict()


def _new_row(principal: Principal, new: NewRun) -> runs.NewRun:
    """The row of a run created for ``principal`` (its user is the principal, not a claim)."""
    scoping.check_experiment(principal, new.experiment_id)
    experiments.check_active(experiments.get(get_store(), new.experiment_id))
    run_id = new.run_id or new_id()
    tags = {canonical(check_key(k, "tag")): v for k, v in new.tags.items()}
    name = new.run_name or tags.get(RUN_NAME) or run_id[:8]
    row = runs.new_row(
        run_id=run_id,
        experiment_id=new.experiment_id,
        run_name=name,
        user=principal.name,
        artifact_uri=get_artifacts().uri(runs.artifact_prefix(run_id)),
        parent_run_id=new.parent_run_id,
        start_time=new.start_time,
    )
    return row, {**tags, RUN_NAME: name}


@router.post("/runs", status_code=201)
def create_run(body: NewRun, principal: Writer) -> dict[str, Any]:
    """Create a RUNNING run; with ``run_id`` given, a retry returns the run created first."""
    store = get_store()
    if body.run_id is not None and runs.exists(store, body.run_id):
        existing = runs.get(store, body.run_id)
        scoping.check_runs(principal, [body.run_id])
        if existing.info.experiment_id != str(body.experiment_id):
            raise Conflict(f"run {body.run_id!r} exists in another experiment.")
        return run_json(existing)
    created = _new_row(principal, body)
    runs.write_batch(store, (), (), (), created=[created])
    return run_json(runs.get(store, created[0]["run_id"]))


@router.get("/runs/{run_id}")
def get_run(run_id: str, principal: Reader) -> dict[str, Any]:
    scoping.check_runs(principal, [run_id])
    return run_json(runs.get(get_store(), run_id))


def _checked(batch: Batch) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    params = []
    for run_id, key, text in batch.params:
        check_key(key, "param")
        if len(text) > MAX_PARAM:
            raise InvalidInput(
                f"param {key!r} is {len(text)} characters; the limit is {MAX_PARAM}."
            )
        params.append((run_id, key, text))
    keys: set[str] = set()
    metrics = []
    for run_id, key, value, step, timestamp in batch.metrics:
        if key not in keys:
            check_key(key, "metric")
            keys.add(key)
        metrics.append(
            (run_id, key, float("nan") if value is None else as_float(key, value), step, timestamp)
        )
    tags = [(r, canonical(check_key(k, "tag")), v) for r, k, v in batch.tags]
    ended = []
    for run_id, status, end_time in batch.ended:
        if status not in TERMINAL:
            raise InvalidInput(
                f"ended: status {status!r} of run {run_id!r} must be one of {list(TERMINAL)}."
            )
        ended.append((run_id, status, end_time))
    return params, metrics, tags, ended


@router.post("/runs/batch")
def log_batch(body: Batch, principal: Writer, key: IdempotencyKey = None) -> dict[str, Any]:
    """Write one flush of values in one transaction; refused params come back as conflicts."""
    store = get_store()
    key = idempotency.check_key(key)
    if key is not None and idempotency.seen(store, key):
        return {"conflicts": [], "replayed": True}
    created = [
        _new_row(principal, new)
        for new in body.created
        if not (new.run_id and runs.exists(store, new.run_id))
    ]
    new_ids = {row["run_id"] for row, _ in created}
    params, metrics, tags, ended = _checked(body)
    touched = (
        {r for r, *_ in params}
        | {r for r, *_ in metrics}
        | {r for r, *_ in tags}
        | {r for r, *_ in ended}
    )
    scoping.check_runs(principal, touched - new_ids)
    then = idempotency.recorder(key) if key is not None else None
    refused = runs.write_batch(
        store, params, metrics, tags, then=then, created=created, ended=ended
    )
    return {"conflicts": [{"run_id": r, "message": m} for r, m in refused], "replayed": False}


class Heartbeat(BaseModel):
    run_ids: list[str] = Field(max_length=10_000)


@router.post("/runs/heartbeat")
def heartbeat(body: Heartbeat, principal: Writer) -> dict[str, Any]:
    """Tell the server a client still works on these RUNNING runs."""
    scoping.check_runs(principal, body.run_ids)
    runs.heartbeat(get_store(), body.run_ids)
    return {"run_ids": body.run_ids}


@router.patch("/runs/{run_id}")
def update_run(run_id: str, body: RunEnd, principal: Writer) -> dict[str, Any]:
    """Set a run's status (a terminal status ends it)."""
    scoping.check_runs(principal, [run_id])
    runs.set_status(
        get_store(),
        run_id,
        body.status,
        body.end_time or (now_ms() if body.status in TERMINAL else None),
    )
    return run_json(runs.get(get_store(), run_id))


@router.get("/runs/{run_id}/metrics/{key:path}")
def metric_history(run_id: str, key: str, principal: Reader) -> dict[str, Any]:
    """Every logged value of one metric, by step."""
    scoping.check_runs(principal, [run_id])
    history = runs.metric_history(get_store(), run_id, key)
    return {"metrics": [m.__dict__ for m in history]}


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            "page_token is not a token this server gave; pass next_page_token back unchanged."
        ) from None
    if offset < 0:
        raise InvalidInput("page_token is not valid.")
    return offset


@router.post("/runs/search")
def search_runs(body: SearchRuns, principal: Reader) -> dict[str, Any]:
    """Runs matching mloop's filter language, ordered, one page at a time."""
    store = get_store()
    wanted = body.experiment_ids or [e.experiment_id for e in experiments.search(store)]
    allowed = scoping.visible_experiments(principal, wanted)
    if body.experiment_ids and len(allowed) < len(set(body.experiment_ids)):
        scoping.check_experiment(principal, sorted(set(body.experiment_ids) - set(allowed))[0])
    offset = _offset(body.page_token)
    if not allowed:
        return {"runs": [], "next_page_token": None}
    ids = [int(experiments.get(store, e).experiment_id) for e in allowed]
    found = search(
        store, ids, body.filter, body.order_by, offset + body.max_results + 1, body.run_view_type
    )
    page = found[offset : offset + body.max_results]
    more = len(found) > offset + body.max_results
    token = (
        base64.urlsafe_b64encode(json.dumps({"offset": offset + len(page)}).encode()).decode()
        if more
        else None
    )
    return {"runs": [run_json(r) for r in page], "next_page_token": token}


@router.post("/runs/{run_id}/delete")
def delete_run(run_id: str, principal: Writer) -> dict[str, Any]:
    scoping.check_runs(principal, [run_id])
    runs.set_lifecycle(get_store(), run_id, "deleted")
    return run_json(runs.get(get_store(), run_id))


@router.post("/runs/{run_id}/restore")
def restore_run(run_id: str, principal: Writer) -> dict[str, Any]:
    scoping.check_runs(principal, [run_id])
    runs.set_lifecycle(get_store(), run_id, "active")
    return run_json(runs.get(get_store(), run_id))


@router.delete("/runs/{run_id}/tags/{key:path}")
def delete_tag(run_id: str, key: str, principal: Writer) -> dict[str, Any]:
    scoping.check_runs(principal, [run_id])
    runs.delete_tag(get_store(), run_id, canonical(key))
    return run_json(runs.get(get_store(), run_id))
