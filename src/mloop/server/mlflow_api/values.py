"""Writing an MLflow client's params, metrics and tags: validated, then one transaction.

A request is acknowledged only once its values are committed (the client's next call
may go to another worker process), so this path writes synchronously with
:func:`mloop.tracking.runs.write_batch` instead of the write-behind buffer; the same
checks as the Python API apply (names, numbers, immutable params).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import Conflict, InvalidInput, NotFound
from mloop.store.db import MetadataStore
from mloop.store.schema.tracking import Param
from mloop.store.schema.tracking import Run as RunRow
from mloop.tracking import runs
from mloop.tracking.entities import RUNNING
from mloop.tracking.system_tags import canonical
from mloop.tracking.tracker import MAX_PARAM, as_float, as_step, as_timestamp, check_key

# MLflow's limits of one log-batch request, kept so a client learns them the same way
MAX_METRICS = 1000
MAX_PARAMS = 100
MAX_TAGS = 100
MAX_VALUES = 1000


def check_active(store: MetadataStore, run_id: str) -> None:
    """The run exists and is not deleted (MLflow refuses logging to a deleted run)."""
    with store.read() as conn:
        stage = conn.execute(select(RunRow.lifecycle_stage).where(RunRow.run_id == run_id)).scalar()
    if stage is None:
        raise NotFound(f"run {run_id!r} does not exist; create it with runs/create first.")
    if stage != "active":
        raise Conflict(f"run {run_id} is deleted; restore it (runs/restore) before logging to it.")


def metric_row(run_id: str, key: Any, value: Any, step: Any, timestamp: Any) -> runs.MetricRow:
    name = check_key(key, "metric")
    if isinstance(value, str):  # MLflow's JSON writes NaN and infinities as strings
        try:
            value = float(value)
        except ValueError:
            raise InvalidInput(
                f"metric {name!r} got value {value!r}; metric values must be numbers."
            ) from None
    return (
        run_id,
        name,
        as_float(name, value),
        as_step(step),
        as_timestamp(timestamp),
    )


def param_row(run_id: str, key: Any, value: Any) -> runs.ParamRow:
    name = check_key(key, "param")
    text = "" if value is None else str(value)
    if len(text) > MAX_PARAM:
        raise InvalidInput(
            f"param {name!r} is {len(text)} characters long; the limit is {MAX_PARAM}."
        )
    return (run_id, name, text)


def tag_row(run_id: str, key: Any, value: Any) -> runs.TagRow:
    return (run_id, canonical(check_key(key, "tag")), "" if value is None else str(value))


def check_batch_size(metrics: int, params: int, tags: int) -> None:
    for what, count, limit in (
        ("metrics", metrics, MAX_METRICS),
        ("params", params, MAX_PARAMS),
        ("tags", tags, MAX_TAGS),
    ):
        if count > limit:
            raise InvalidInput(
                f"log-batch field {what!r} has {count} entries; the limit is {limit} per "
                "request. Split the batch."
            )
    if metrics + params + tags > MAX_VALUES:
        raise InvalidInput(
            f"log-batch has {metrics + params + tags} values; the limit is {MAX_VALUES} per "
            "request. Split the batch."
        )


def _duplicates(params: Sequence[runs.ParamRow]) -> None:
    seen: dict[str, str] = {}
    for _, key, value in params:
        if key in seen and seen[key] != value:
            raise InvalidInput(
                f"param {key!r} is given twice in one request with different values "
                f"({seen[key]!r} and {value!r}); params are immutable."
            )
        seen[key] = value


def without_stored(
    store: MetadataStore, run_id: str, metrics: list[runs.MetricRow], keys: set[str]
) -> list[runs.MetricRow]:
    """``metrics`` less the values of ``keys`` already in the run's history (same step,
    timestamp and value): MLflow stores a metric value once, and its client logs a run's
    values again to link them to a logged model."""
    stored = {
        (key, m.step, m.timestamp, m.value)
        for key in keys
        for m in runs.metric_history(store, run_id, key)
    }
    return [row for row in metrics if (row[1], row[3], row[4], row[2]) not in stored]


def _check_unchanged(store: MetadataStore, run_id: str, params: Sequence[runs.ParamRow]) -> None:
    given = {key: value for _, key, value in params}
    with store.read() as conn:
        stored = conn.execute(
            select(Param.key, Param.value).where(Param.run_id == run_id, Param.key.in_(given))
        ).all()
    for key, value in stored:
        if given[key] != value:
            raise Conflict(
                f"param {key!r} of run {run_id} is already {value!r}; params are immutable, so "
                f"{given[key]!r} cannot replace it. Log it under another name, or start a new run."
            )


def write(
    store: MetadataStore,
    run_id: str,
    metrics: Sequence[runs.MetricRow] = (),
    params: Sequence[runs.ParamRow] = (),
    tags: Sequence[runs.TagRow] = (),
) -> None:
    """Commit the values of one request, refreshing the run's heartbeat in the same
    transaction (a remote client's run stays RUNNING while it logs).

    Raises:
        Conflict: a param already has another value (params are immutable).
    """
    _duplicates(params)
    if params:
        _check_unchanged(store, run_id, params)
    now = now_ms()

    def beat(conn: Connection) -> None:
        conn.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.status == RUNNING)
            .values(heartbeat_at=now)
        )

    refused = runs.write_batch(store, params, metrics, tags, then=beat)
    if refused:
        raise Conflict(
            "; ".join(message for _, message in refused)
            + ". Params are immutable: log the new value under another name."
        )
