"""Runs in the metadata store: create, read, end, heartbeat, and batched value writes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import Conflict, InvalidInput, NotFound
from mloop.core.log import get_logger
from mloop.store.db import MetadataStore
from mloop.store.schema.lineage import LineageEdge
from mloop.store.schema.tracking import LatestMetric, Metric, Param, Tag
from mloop.store.schema.tracking import Run as RunRow
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

log = get_logger("mloop.tracking")

ParamRow = tuple[str, str, str]  # run_id, key, value
TagRow = tuple[str, str, str]  # run_id, key, value
MetricRow = tuple[str, str, float, int, int]  # run_id, key, value, step, timestamp

ARTIFACTS = "runs/{run_id}/artifacts"


def artifact_prefix(run_id: str) -> str:
    """The artifact-store key prefix of a run's artifacts."""
    return ARTIFACTS.format(run_id=run_id)


def create(
    store: MetadataStore,
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
    now = now_ms()
    row = {
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

    def work(conn: Connection) -> None:
        conn.execute(insert(RunRow), row)
        if tags:
            conn.execute(
                insert(Tag), [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()]
            )

    store.transaction(work)
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


def get(store: MetadataStore, run_id: str) -> Run:
    """The run with its params, latest metrics, tags and inputs."""
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


def exists(store: MetadataStore, run_id: str) -> bool:
    with store.read() as conn:
        return (
            conn.execute(select(RunRow.run_id).where(RunRow.run_id == run_id)).first() is not None
        )


def params_of(store: MetadataStore, run_id: str) -> dict[str, str]:
    with store.read() as conn:
        return dict(
            conn.execute(select(Param.key, Param.value).where(Param.run_id == run_id)).all()
        )


def status_update(
    run_id: str, status: str, end_time: int | None = None
) -> Callable[[Connection], None]:
    """The change of a run's status, to run inside a transaction."""
    if status not in STATUSES:
        raise InvalidInput(f"run status {status!r} is unknown; use one of {', '.join(STATUSES)}.")
    values: dict[str, Any] = {"status": status, "heartbeat_at": now_ms()}
    values["end_time"] = (end_time or now_ms()) if status in TERMINAL else None

    def work(conn: Connection) -> None:
        result = conn.execute(update(RunRow).where(RunRow.run_id == run_id).values(**values))
        if result.rowcount == 0:
            raise NotFound(f"run {run_id!r} does not exist.")

    return work


def set_status(store: MetadataStore, run_id: str, status: str, end_time: int | None = None) -> None:
    store.transaction(status_update(run_id, status, end_time))


def heartbeat(store: MetadataStore, run_ids: Sequence[str]) -> None:
    """Tell readers these runs' processes are alive."""
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


def expire_stale(store: MetadataStore) -> int:
    """Mark FAILED every RUNNING run whose heartbeat is older than the timeout.

    A process killed without a chance to end its run (SIGKILL, power loss) leaves it
    RUNNING; readers call this so no run stays RUNNING forever. Returns the number marked.
    """
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
    store: MetadataStore,
    params: Sequence[ParamRow],
    metrics: Sequence[MetricRow],
    tags: Sequence[TagRow],
    then: Callable[[Connection], None] | None = None,
) -> list[str]:
    """Write buffered values in one transaction; return messages about refused params.

    ``then`` runs last in the same transaction (ending a run commits with its values).
    """
    refused: list[str] = []

    def work(conn: Connection) -> None:
        if params:
            store.insert_ignore(
                conn,
                Param.__table__,
                [{"run_id": r, "key": k, "value": v} for r, k, v in params],
            )
            refused.extend(_param_conflicts(conn, params))
        if tags:
            latest_tags = {(r, k): v for r, k, v in tags}
            store.upsert(
                conn,
                Tag.__table__,
                [{"run_id": r, "key": k, "value": v} for (r, k), v in latest_tags.items()],
                keys=["run_id", "key"],
                update=["value"],
            )
        if metrics:
            _insert_metrics(store, conn, metrics)
            _update_latest(store, conn, metrics)
        if then is not None:
            then(conn)

    store.transaction(work)
    return refused


def _param_conflicts(conn: Connection, params: Sequence[ParamRow]) -> list[str]:
    wanted = {(r, k): v for r, k, v in params}
    run_ids = {r for r, _, _ in params}
    stored = conn.execute(
        select(Param.run_id, Param.key, Param.value).where(
            Param.run_id.in_(run_ids), Param.key.in_({k for _, k, _ in params})
        )
    ).all()
    return [
        f"param {key!r} of run {run_id} is {value!r}; the new value {wanted[(run_id, key)]!r} was not stored"
        for run_id, key, value in stored
        if (run_id, key) in wanted and wanted[(run_id, key)] != value
    ]


_METRIC_COLUMNS = ("run_id", "key", "value", "is_nan", "step", "timestamp")


def _insert_metrics(store: MetadataStore, conn: Connection, metrics: Sequence[MetricRow]) -> None:
    """Append metric rows to the history with the driver's bulk path.

    The rows go to the DB-API cursor as tuples: per-row statement compilation and
    parameter processing would cost more than the database's own work. PostgreSQL
    takes them through ``COPY``; SQLite through one prepared ``executemany``.
    NaN is stored as NULL with ``is_nan`` set (PostgreSQL and SQLite disagree on NaN).
    """
    rows = [
        (r, k, None, True, s, t) if v != v else (r, k, v, False, s, t) for r, k, v, s, t in metrics
    ]
    quote = conn.dialect.identifier_preparer.quote
    table = quote(Metric.__tablename__)
    columns = ", ".join(quote(c) for c in _METRIC_COLUMNS)
    if not store.is_sqlite:  # COPY beats executemany from 20 rows on (measured)
        driver = conn.connection.driver_connection
        with (
            driver.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * len(rows[0]))
    conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _update_latest(store: MetadataStore, conn: Connection, metrics: Iterable[MetricRow]) -> None:
    """Upsert each (run, key)'s value at the highest step (latest timestamp breaks ties)."""
    latest: dict[tuple[str, str], MetricRow] = {}
    get = latest.get
    for row in metrics:
        key = (row[0], row[1])
        current = get(key)
        if (
            current is None
            or row[3] > current[3]
            or (row[3] == current[3] and row[4] >= current[4])
        ):
            latest[key] = row
    table = LatestMetric.__table__
    store.upsert(
        conn,
        table,
        [
            {
                "run_id": r,
                "key": k,
                "value": None if v != v else v,
                "is_nan": v != v,
                "step": s,
                "timestamp": t,
            }
            for r, k, v, s, t in latest.values()
        ],
        keys=["run_id", "key"],
        update=["value", "is_nan", "step", "timestamp"],
        where=lambda new: or_(
            new.step > table.c.step,
            and_(new.step == table.c.step, new.timestamp >= table.c.timestamp),
        ),
    )


def metric_history(store: MetadataStore, run_id: str, key: str) -> list[MetricEntity]:
    with store.read() as conn:
        rows = conn.execute(
            select(Metric.key, Metric.value, Metric.is_nan, Metric.timestamp, Metric.step)
            .where(Metric.run_id == run_id, Metric.key == key)
            .order_by(Metric.step, Metric.timestamp, Metric.id)
        ).all()
    return [MetricEntity(k, metric_value(v, n), t, s) for k, v, n, t, s in rows]


def check_resumable(store: MetadataStore, run_id: str) -> Run:
    run = get(store, run_id)
    if run.info.lifecycle_stage != "active":
        raise Conflict(f"run {run_id} is deleted and cannot be resumed.")
    return run
