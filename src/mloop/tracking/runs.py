"""Runs in the metadata store: create, read, end, heartbeat, and batched value writes."""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import Conflict, InvalidInput, NotFound
from mloop.core.log import get_logger
from mloop.store.db import MetadataStore
from mloop.store.remote import RemoteStore
from mloop.store.schema.lineage import LineageEdge
from mloop.store.schema.tracking import LatestMetric, MetricChunk, Param, Tag
from mloop.store.schema.tracking import Run as RunRow
from mloop.tracking import remote
from mloop.tracking.entities import (
    FAILED,
    RUNNING,
    STATUSES,
    TERMINAL,
    Run,
    RunData,
    RunInfo,
    RunInput,
)
from mloop.tracking.entities import Metric as MetricEntity
from mloop.tracking.system_tags import RUN_NAME

log = get_logger("mloop.tracking")

ParamRow = tuple[str, str, str]  # run_id, key, value
TagRow = tuple[str, str, str]  # run_id, key, value
MetricRow = tuple[str, str, float, int, int]  # run_id, key, value, step, timestamp
NewRun = tuple[dict[str, Any], dict[str, str]]  # a new run's row and its first tags
Ended = tuple[str, str, int]  # run_id, terminal status, end time

ARTIFACTS = "runs/{run_id}/artifacts"


def artifact_prefix(run_id: str) -> str:
    """The artifact-store key prefix of a run's artifacts."""
    return ARTIFACTS.format(run_id=run_id)


def new_row(
    *,
    run_id: str,
    experiment_id: str,
    run_name: str,
    user: str,
    artifact_uri: str,
    parent_run_id: str | None,
    start_time: int | None = None,
) -> dict[str, Any]:
    """The row of a new ``RUNNING`` run."""
    now = now_ms()
    return {
        "run_id": run_id,
        "experiment_id": int(experiment_id),
        "name": run_name,
        "status": RUNNING,
        "start_time": now if start_time is None else start_time,
        "end_time": None,
        "heartbeat_at": now,  # alive now, even when start_time is in the past
        "user": user,
        "artifact_uri": artifact_uri,
        "parent_run_id": parent_run_id,
        "lifecycle_stage": "active",
    }


def insert_runs(conn: Connection, created: Sequence[NewRun]) -> None:
    """Insert new runs and their first tags (inside a transaction)."""
    conn.execute(insert(RunRow), [row for row, _ in created])
    tags = [
        {"run_id": row["run_id"], "key": k, "value": v}
        for row, tags in created
        for k, v in tags.items()
    ]
    if tags:
        conn.execute(insert(Tag), tags)


def create(
    store: MetadataStore | RemoteStore,
    *,
    run_id: str,
    experiment_id: str,
    run_name: str,
    user: str,
    artifact_uri: str,
    parent_run_id: str | None,
    tags: dict[str, str],
    start_time: int | None = None,
) -> RunInfo:
    row = new_row(
        run_id=run_id,
        experiment_id=experiment_id,
        run_name=run_name,
        user=user,
        artifact_uri=artifact_uri,
        parent_run_id=parent_run_id,
        start_time=start_time,
    )
    if isinstance(store, RemoteStore):
        remote.write_batch(store, (), (), (), [(row, tags)], ())
        return remote.get_run(store, run_id).info
    store.transaction(lambda conn: insert_runs(conn, [(row, tags)]))
    return info_of(row)


def info_of(row: dict[str, Any]) -> RunInfo:
    """The :class:`RunInfo` of a run row given as a mapping."""
    return _info(RunRow(**row))


def _info(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row.run_id,
        run_name=row.name,
        experiment_id=str(row.experiment_id),
        status=row.status,
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        user_id=row.user,
        lifecycle_stage=row.lifecycle_stage,
        parent_run_id=row.parent_run_id,
    )


def metric_value(value: float | None, is_nan: bool) -> float:
    return math.nan if is_nan or value is None else float(value)


def get(store: MetadataStore | RemoteStore, run_id: str) -> Run:
    """The run with its params, latest metrics, tags and inputs."""
    if isinstance(store, RemoteStore):
        return remote.get_run(store, run_id)
    expire_stale(store)
    with store.read() as conn:
        row = conn.execute(select(RunRow).where(RunRow.run_id == run_id)).first()
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist; `mloop runs list` shows the runs.")
        params = dict(
            conn.execute(select(Param.key, Param.value).where(Param.run_id == run_id)).all()
        )
        tags = dict(conn.execute(select(Tag.key, Tag.value).where(Tag.run_id == run_id)).all())
        metrics = {
            key: metric_value(value, is_nan)
            for key, value, is_nan in conn.execute(
                select(LatestMetric.key, LatestMetric.value, LatestMetric.is_nan).where(
                    LatestMetric.run_id == run_id
                )
            ).all()
        }
        inputs = conn.execute(
            select(LineageEdge.from_kind, LineageEdge.from_id, LineageEdge.properties).where(
                LineageEdge.to_kind == "run",
                LineageEdge.to_id == run_id,
                LineageEdge.relation == "input_of",
            )
        ).all()
    import json

    return Run(
        info=_info(row),
        data=RunData(params=params, metrics=metrics, tags=tags),
        inputs=tuple(
            RunInput(kind, id_, (json.loads(props) or {}).get("context") if props else None)
            for kind, id_, props in inputs
        ),
    )


def exists(store: MetadataStore | RemoteStore, run_id: str) -> bool:
    if isinstance(store, RemoteStore):
        try:
            remote.get_run(store, run_id)
        except NotFound:
            return False
        return True
    with store.read() as conn:
        return (
            conn.execute(select(RunRow.run_id).where(RunRow.run_id == run_id)).first() is not None
        )


def params_of(store: MetadataStore | RemoteStore, run_id: str) -> dict[str, str]:
    if isinstance(store, RemoteStore):
        try:
            return dict(remote.get_run(store, run_id).data.params)
        except NotFound:  # a new run still in the write-behind buffer has no params yet
            return {}
    with store.read() as conn:
        return dict(
            conn.execute(select(Param.key, Param.value).where(Param.run_id == run_id)).all()
        )


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise InvalidInput(f"run status {status!r} is unknown; use one of {', '.join(STATUSES)}.")


def status_update(
    run_id: str, status: str, end_time: int | None = None
) -> Callable[[Connection], None]:
    """The change of a run's status, to run inside a transaction."""
    check_status(status)
    values: dict[str, Any] = {"status": status, "heartbeat_at": now_ms()}
    values["end_time"] = (end_time or now_ms()) if status in TERMINAL else None

    def work(conn: Connection) -> None:
        result = conn.execute(update(RunRow).where(RunRow.run_id == run_id).values(**values))
        if result.rowcount == 0:
            raise NotFound(f"run {run_id!r} does not exist.")

    return work


def apply_ends(conn: Connection, ended: Sequence[Ended]) -> None:
    """Apply run ends queued by runs started with ``synchronous=False`` (inside a flush)."""
    for run_id, status, end_time in ended:
        result = conn.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id)
            .values(status=status, end_time=end_time, heartbeat_at=end_time)
        )
        if result.rowcount == 0:  # deleted meanwhile: nothing to end, keep the rest
            log.warning("run %s ended as %s but no longer exists", run_id, status)


def set_status(
    store: MetadataStore | RemoteStore, run_id: str, status: str, end_time: int | None = None
) -> None:
    if isinstance(store, RemoteStore):
        check_status(status)
        remote.set_status(store, run_id, status, end_time)
        return
    store.transaction(status_update(run_id, status, end_time))


def heartbeat(store: MetadataStore | RemoteStore, run_ids: Sequence[str]) -> None:
    """Tell readers these runs' processes are alive."""
    if isinstance(store, RemoteStore):
        if run_ids:
            remote.heartbeat(store, run_ids)
        return
    if not run_ids:
        return
    now = now_ms()
    store.transaction(
        lambda conn: conn.execute(
            update(RunRow)
            .where(RunRow.run_id.in_(list(run_ids)), RunRow.status == RUNNING)
            .values(heartbeat_at=now)
        )
    )


def expire_stale(store: MetadataStore | RemoteStore) -> int:
    """Mark FAILED every RUNNING run whose heartbeat is older than the timeout.

    A process killed without a chance to end its run (SIGKILL, power loss) leaves it
    RUNNING; readers call this so no run stays RUNNING forever. Returns the number marked.
    """
    if isinstance(store, RemoteStore):
        return 0  # the server expires its runs when it reads them
    from mloop.core.config import get_settings

    cutoff = now_ms() - int(get_settings().heartbeat_timeout * 1000)
    stale = and_(RunRow.status == RUNNING, RunRow.heartbeat_at < cutoff)
    with store.read() as conn:
        if conn.execute(select(func.count()).select_from(RunRow).where(stale)).scalar_one() == 0:
            return 0

    def work(conn: Connection) -> int:
        result = conn.execute(
            update(RunRow).where(stale).values(status=FAILED, end_time=RunRow.heartbeat_at)
        )
        return int(result.rowcount)

    expired = store.transaction(work)
    if expired:
        log.warning(
            "marked %d run(s) FAILED: no heartbeat for over %ss",
            expired,
            get_settings().heartbeat_timeout,
        )
    return expired


def write_batch(
    store: MetadataStore | RemoteStore,
    params: Sequence[ParamRow],
    metrics: Sequence[MetricRow],
    tags: Sequence[TagRow],
    then: Callable[[Connection], None] | None = None,
    created: Sequence[NewRun] = (),
    ended: Sequence[Ended] = (),
) -> list[tuple[str, str]]:
    """Write buffered values in one transaction; return (run id, message) of refused params.

    ``created`` runs are inserted first (their values may be in the same batch), ``ended``
    runs get their final status after their values; ``then`` runs last in the same
    transaction (ending a run commits with its values).
    """
    if isinstance(store, RemoteStore):
        if then is not None:
            raise InvalidInput("a remote flush cannot run a SQL step; end runs with `ended`.")
        return remote.write_batch(store, params, metrics, tags, created, ended)
    refused: list[tuple[str, str]] = []

    def work(conn: Connection) -> None:
        if created:
            insert_runs(conn, created)
        if params:
            store.insert_ignore(
                conn,
                Param.__table__,
                [{"run_id": r, "key": k, "value": v} for r, k, v in params],
            )
            # a run created in this batch has no stored params to conflict with (values
            # logged twice in one process are checked at the call)
            new = {row["run_id"] for row, _ in created}
            older = [p for p in params if p[0] not in new] if new else params
            if older:
                refused.extend(_param_conflicts(conn, older))
        if tags:
            latest_tags = {(r, k): v for r, k, v in tags}
            store.upsert(
                conn,
                Tag.__table__,
                [{"run_id": r, "key": k, "value": v} for (r, k), v in latest_tags.items()],
                keys=["run_id", "key"],
                update=["value"],
            )
            for (run_id, key), value in latest_tags.items():
                if key == RUN_NAME:  # the run-name tag and the attribute are one name
                    conn.execute(update(RunRow).where(RunRow.run_id == run_id).values(name=value))
        if metrics:
            grouped = _group(metrics)
            _insert_chunks(conn, grouped)
            _update_latest(store, conn, grouped)
        if ended:
            apply_ends(conn, ended)
        if then is not None:
            then(conn)

    store.transaction(work)
    return refused


def _param_conflicts(conn: Connection, params: Sequence[ParamRow]) -> list[tuple[str, str]]:
    wanted = {(r, k): v for r, k, v in params}
    run_ids = {r for r, _, _ in params}
    stored = conn.execute(
        select(Param.run_id, Param.key, Param.value).where(
            Param.run_id.in_(run_ids), Param.key.in_({k for _, k, _ in params})
        )
    ).all()
    return [
        (
            run_id,
            f"param {key!r} of run {run_id} is {value!r} (logged by another process); "
            f"the value {wanted[(run_id, key)]!r} was not stored",
        )
        for run_id, key, value in stored
        if (run_id, key) in wanted and wanted[(run_id, key)] != value
    ]


def _pack(kind: str, items: list[Any]) -> bytes:
    """``items`` as a little-endian array of ``kind`` (``q`` int64, ``d`` float64)."""
    packed = array(kind, items)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def _unpack(kind: str, data: bytes) -> array[Any]:
    unpacked = array(kind)
    unpacked.frombytes(data)
    if _BIG_ENDIAN:
        unpacked.byteswap()
    return unpacked


_BIG_ENDIAN = sys.byteorder == "big"


Columns = tuple[list[int], list[int], list[float]]  # steps, timestamps, values


def _group(metrics: Sequence[MetricRow]) -> dict[tuple[str, str], Columns]:
    """The batch's values per (run, key), in logging order."""
    grouped: dict[tuple[str, str], Columns] = {}
    get = grouped.get
    for run_id, key, value, step, timestamp in metrics:
        columns = get((run_id, key))
        if columns is None:
            columns = grouped[(run_id, key)] = ([], [], [])
        columns[0].append(step)
        columns[1].append(timestamp)
        columns[2].append(value)
    return grouped


def _insert_chunks(conn: Connection, grouped: dict[tuple[str, str], Columns]) -> None:
    """Append the values to the history: one chunk per (run, key) of this batch.

    Packing the values of a key into one row makes the database's work per flush
    proportional to the number of metrics, not of values (10,000 values of 100 metrics
    are 100 rows); see :class:`~mloop.store.schema.tracking.MetricChunk`.
    """
    conn.execute(
        insert(MetricChunk),
        [
            {
                "run_id": run_id,
                "key": key,
                "count": len(steps),
                "steps": _pack("q", steps),
                "timestamps": _pack("q", timestamps),
                "values": _pack("d", values),
            }
            for (run_id, key), (steps, timestamps, values) in grouped.items()
        ],
    )


def _latest(columns: Columns) -> int:
    """The index of the value at the highest step (latest timestamp, then last logged)."""
    steps, timestamps, _ = columns
    top = max(steps)
    if steps.count(top) == 1:
        return steps.index(top)
    tied = [i for i, step in enumerate(steps) if step == top]
    return max(tied, key=lambda i: (timestamps[i], i))


def _update_latest(
    store: MetadataStore, conn: Connection, grouped: dict[tuple[str, str], Columns]
) -> None:
    """Upsert each (run, key)'s value at the highest step (latest timestamp breaks ties)."""
    rows = []
    for (run_id, key), columns in grouped.items():
        at = _latest(columns)
        value = columns[2][at]
        rows.append(
            {
                "run_id": run_id,
                "key": key,
                "value": None if value != value else value,
                "is_nan": value != value,
                "step": columns[0][at],
                "timestamp": columns[1][at],
            }
        )
    table = LatestMetric.__table__
    store.upsert(
        conn,
        table,
        rows,
        keys=["run_id", "key"],
        update=["value", "is_nan", "step", "timestamp"],
        where=lambda new: or_(
            new.step > table.c.step,
            and_(new.step == table.c.step, new.timestamp >= table.c.timestamp),
        ),
    )


def metric_history(store: MetadataStore | RemoteStore, run_id: str, key: str) -> list[MetricEntity]:
    """Every logged value of ``key``, by step, then timestamp, then logging order."""
    if isinstance(store, RemoteStore):
        return remote.metric_history(store, run_id, key)
    with store.read() as conn:
        chunks = conn.execute(
            select(MetricChunk.steps, MetricChunk.timestamps, MetricChunk.values)
            .where(MetricChunk.run_id == run_id, MetricChunk.key == key)
            .order_by(MetricChunk.id)
        ).all()
    points: list[tuple[int, int, int, float]] = []
    for steps, timestamps, values in chunks:
        start = len(points)
        points.extend(
            zip(
                _unpack("q", steps),
                _unpack("q", timestamps),
                range(start, start + len(values) // 8),
                _unpack("d", values),
                strict=True,
            )
        )
    points.sort()
    return [MetricEntity(key, value, timestamp, step) for step, timestamp, _, value in points]


def check_resumable(store: MetadataStore | RemoteStore, run_id: str) -> Run:
    run = get(store, run_id)
    if run.info.lifecycle_stage != "active":
        raise Conflict(f"run {run_id} is deleted and cannot be resumed.")
    return run


def set_lifecycle(store: MetadataStore | RemoteStore, run_id: str, stage: str) -> None:
    """Delete (``"deleted"``: hidden from searches) or restore (``"active"``) a run."""
    if isinstance(store, RemoteStore):
        remote.run_lifecycle(store, run_id, stage)
        return

    def work(conn: Connection) -> None:
        result = conn.execute(
            update(RunRow).where(RunRow.run_id == run_id).values(lifecycle_stage=stage)
        )
        if result.rowcount == 0:
            raise NotFound(f"run {run_id!r} does not exist; `mloop runs list` shows the runs.")

    store.transaction(work)


def delete_tag(store: MetadataStore | RemoteStore, run_id: str, key: str) -> None:
    """Remove a tag of a run; a tag that is not there is an error, as in MLflow."""
    if isinstance(store, RemoteStore):
        remote.delete_tag(store, run_id, key)
        return

    def work(conn: Connection) -> None:
        result = conn.execute(delete(Tag).where(Tag.run_id == run_id, Tag.key == key))
        if result.rowcount == 0:
            if not conn.execute(select(RunRow.run_id).where(RunRow.run_id == run_id)).first():
                raise NotFound(f"run {run_id!r} does not exist.")
            raise NotFound(f"run {run_id} has no tag {key!r}; nothing to delete.")

    store.transaction(work)
