"""Search runs: the filter tree compiled to SQL expressions, results as Runs or a DataFrame."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, exists, false, not_, or_, select, true
from sqlalchemy.orm import aliased

from mloop.store.db import MetadataStore
from mloop.store.schema.tracking import LatestMetric, Param, Tag
from mloop.store.schema.tracking import Run as RunRow
from mloop.tracking import runs
from mloop.tracking.entities import Run, RunData, RunInfo
from mloop.tracking.filter import And, Comparison, Node, Or, OrderBy, parse, parse_order_by

if TYPE_CHECKING:
    import pandas as pd

_ATTRIBUTE_COLUMNS = {
    "status": RunRow.status,
    "run_name": RunRow.name,
    "run_id": RunRow.run_id,
    "start_time": RunRow.start_time,
    "end_time": RunRow.end_time,
    "user_id": RunRow.user,
    "artifact_uri": RunRow.artifact_uri,
    "experiment_id": RunRow.experiment_id,
}
_VIEW_TYPES = {
    "ACTIVE_ONLY": ("active",),
    "DELETED_ONLY": ("deleted",),
    "ALL": ("active", "deleted"),
}


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return column.ilike(value)
    if op == "IN":
        return column.in_(value)
    if op == "NOT IN":
        return column.not_in(value)
    raise AssertionError(op)


def _metric_condition(key: str, op: str, value: Any) -> ColumnElement[bool]:
    values = value if isinstance(value, tuple) else (value,)
    if any(v != v for v in values):  # NaN: only equality with NaN is meaningful
        nan_match = and_(LatestMetric.is_nan == true())
        condition = nan_match if op in ("=", "IN") else LatestMetric.is_nan == false()
    else:
        condition = and_(LatestMetric.is_nan == false(), _compare(LatestMetric.value, op, value))
    return exists().where(LatestMetric.run_id == RunRow.run_id, LatestMetric.key == key, condition)


def compile_filter(node: Node | None) -> ColumnElement[bool]:
    """SQL condition on ``runs`` for a parsed filter."""
    if node is None:
        return true()
    if isinstance(node, And):
        return and_(*(compile_filter(part) for part in node.parts))
    if isinstance(node, Or):
        return or_(*(compile_filter(part) for part in node.parts))
    assert isinstance(node, Comparison)
    if node.entity == "attributes":
        column = _ATTRIBUTE_COLUMNS[node.key]
        if node.op == "IS NULL":
            return column.is_(None)
        if node.op == "IS NOT NULL":
            return column.is_not(None)
        value = node.value
        if node.key == "experiment_id":
            value = (
                tuple(int(float(str(v))) for v in value)
                if isinstance(value, tuple)
                else int(float(str(value or 0)))
            )
        return _compare(column, node.op, value)
    if node.entity == "metrics":
        if node.op in ("IS NULL", "IS NOT NULL"):
            present = exists().where(
                LatestMetric.run_id == RunRow.run_id, LatestMetric.key == node.key
            )
            return not_(present) if node.op == "IS NULL" else present
        return _metric_condition(node.key, node.op, node.value)
    table = Param if node.entity == "params" else Tag
    present = exists().where(table.run_id == RunRow.run_id, table.key == node.key)
    if node.op == "IS NULL":
        return not_(present)
    if node.op == "IS NOT NULL":
        return present
    return exists().where(
        table.run_id == RunRow.run_id,
        table.key == node.key,
        _compare(table.value, node.op, node.value),
    )


def _order(query: Any, terms: list[OrderBy]) -> Any:
    clauses: list[Any] = []
    for index, term in enumerate(terms):
        if term.entity == "attributes":
            column: Any = _ATTRIBUTE_COLUMNS[term.key]
        else:
            table: Any = {"metrics": LatestMetric, "params": Param, "tags": Tag}[term.entity]
            alias = aliased(table, name=f"order_{index}")
            query = query.outerjoin(
                alias, and_(alias.run_id == RunRow.run_id, alias.key == term.key)
            )
            column = alias.value
            if term.entity == "metrics":
                # NaN sorts after every number, missing values after NaN, as in MLflow
                clauses.append(
                    case((alias.run_id.is_(None), 2), (alias.is_nan == true(), 1), else_=0)
                )
        if term.entity != "metrics":
            clauses.append(case((column.is_(None), 1), else_=0))
        clauses.append(column.asc() if term.ascending else column.desc())
    clauses += [RunRow.start_time.desc(), RunRow.run_id]
    return query.order_by(*clauses)


def search(
    store: MetadataStore,
    experiment_ids: list[int] | None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    max_results: int = 1000,
    run_view_type: str = "ACTIVE_ONLY",
) -> list[Run]:
    """Runs matching the filter, in the requested order, with params, metrics and tags."""
    condition = compile_filter(parse(filter_string))
    terms = parse_order_by(order_by)
    stages = _VIEW_TYPES.get(run_view_type.upper(), ("active",))
    runs.expire_stale(store)
    query = select(RunRow).where(condition, RunRow.lifecycle_stage.in_(stages))
    if experiment_ids is not None:
        query = query.where(RunRow.experiment_id.in_(experiment_ids))
    query = _order(query, terms).limit(max_results)
    with store.read() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return []
        ids = [row.run_id for row in rows]
        params: dict[str, dict[str, str]] = defaultdict(dict)
        metrics: dict[str, dict[str, float]] = defaultdict(dict)
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for chunk in _chunks(ids, 900):
            for run_id, key, text in conn.execute(
                select(Param.run_id, Param.key, Param.value).where(Param.run_id.in_(chunk))
            ):
                params[run_id][key] = text
            for run_id, key, value, is_nan in conn.execute(
                select(
                    LatestMetric.run_id, LatestMetric.key, LatestMetric.value, LatestMetric.is_nan
                ).where(LatestMetric.run_id.in_(chunk))
            ):
                metrics[run_id][key] = runs.metric_value(value, is_nan)
            for run_id, key, text in conn.execute(
                select(Tag.run_id, Tag.key, Tag.value).where(Tag.run_id.in_(chunk))
            ):
                tags[run_id][key] = text
    return [
        Run(
            info=RunInfo(
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
            ),
            data=RunData(
                params=params[row.run_id], metrics=metrics[row.run_id], tags=tags[row.run_id]
            ),
        )
        for row in rows
    ]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def to_frame(found: list[Run]) -> pd.DataFrame:
    """Runs as a DataFrame shaped like MLflow's ``search_runs`` result."""
    import pandas as pd

    columns: dict[str, list[Any]] = {
        "run_id": [r.info.run_id for r in found],
        "experiment_id": [r.info.experiment_id for r in found],
        "status": [r.info.status for r in found],
        "artifact_uri": [r.info.artifact_uri for r in found],
        "start_time": [r.info.start_time for r in found],
        "end_time": [r.info.end_time for r in found],
    }
    n = len(found)
    for prefix, field in (("metrics", "metrics"), ("params", "params"), ("tags", "tags")):
        keys = sorted({key for run in found for key in getattr(run.data, field)})
        default = float("nan") if prefix == "metrics" else None
        for key in keys:
            columns[f"{prefix}.{key}"] = [default] * n
        for index, run in enumerate(found):
            for key, value in getattr(run.data, field).items():
                columns[f"{prefix}.{key}"][index] = value
    frame = pd.DataFrame(columns)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    for column in frame.columns:
        if column.startswith("metrics."):
            frame[column] = frame[column].astype("float64")
    return frame
