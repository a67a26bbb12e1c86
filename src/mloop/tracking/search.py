"""Search runs: the filter tree compiled to SQL expressions, the matching runs selected in order.

The selection walks the index that answers the question: with a metric as the first sort
key and a moderate ``max_results``, runs are read in that metric's order from the
``(key, value)`` index of ``latest_metrics`` and the scan stops once enough match, in
three segments (numbers, then NaN, then runs without the metric, as MLflow orders them).
Otherwise every candidate run is filtered and sorted. The values of the selected runs
are then fetched in bulk (:mod:`.results`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, case, exists, false, not_, or_, select, true
from sqlalchemy.orm import aliased

from mloop.core.errors import InvalidInput
from mloop.store.db import MetadataStore
from mloop.store.remote import RemoteStore
from mloop.store.schema.tracking import LatestMetric, Param, Tag
from mloop.store.schema.tracking import Run as RunRow
from mloop.tracking import inputs, remote, results, runs
from mloop.tracking.entities import Run
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
_VIEW_NUMBERS = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}  # MLflow's ViewType values


def view_type(value: Any) -> str:
    """``ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL`` (MLflow's ViewType numbers accepted too)."""
    name = _VIEW_NUMBERS.get(value) if isinstance(value, int) else str(value).upper()
    if name not in _VIEW_TYPES:
        raise InvalidInput(
            f"run_view_type {value!r} is unknown; use 'ACTIVE_ONLY' (the default), "
            "'DELETED_ONLY' or 'ALL'."
        )
    return name


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
    elif op == "!=":  # NaN differs from every number: MLflow's stores include it
        condition = or_(LatestMetric.is_nan == true(), _compare(LatestMetric.value, op, value))
    else:
        condition = and_(LatestMetric.is_nan == false(), _compare(LatestMetric.value, op, value))
    return exists().where(LatestMetric.run_id == RunRow.run_id, LatestMetric.key == key, condition)


Datasets = Callable[[Comparison], ColumnElement[bool]]


def compile_filter(node: Node | None, datasets: Datasets | None = None) -> ColumnElement[bool]:
    """SQL condition on ``runs`` for a parsed filter.

    ``datasets`` turns a ``datasets.*`` comparison into a condition (it needs to read the
    inputs; see :func:`_conditions`).
    """
    if node is None:
        return true()
    if isinstance(node, And):
        return and_(*(compile_filter(part, datasets) for part in node.parts))
    if isinstance(node, Or):
        return or_(*(compile_filter(part, datasets) for part in node.parts))
    assert isinstance(node, Comparison)
    if node.entity == "datasets":
        if datasets is None:
            raise AssertionError("datasets.* filters need a connection to read the inputs")
        return datasets(node)
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


# columns of a selected run, in the order results.py reads them
RUN_COLUMNS = (
    RunRow.run_id,
    RunRow.name,
    RunRow.experiment_id,
    RunRow.status,
    RunRow.start_time,
    RunRow.end_time,
    RunRow.artifact_uri,
    RunRow.user,
    RunRow.lifecycle_stage,
    RunRow.parent_run_id,
)
# up to this many results, a metric sort key is read from its index (stops early); above,
# sorting every match at once is cheaper than visiting runs one by one in metric order
_INDEX_ORDER_MAX = 1000


def _order_clauses(query: Any, terms: list[OrderBy], first_alias: int = 0) -> tuple[Any, list[Any]]:
    """Join what ``terms`` sort on; return the query and its ORDER BY clauses."""
    clauses: list[Any] = []
    for index, term in enumerate(terms, start=first_alias):
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
    return query, clauses


_TIE_BREAK = (RunRow.start_time.desc(), RunRow.run_id)


def _select_sorted(
    conn: Connection, where: list[Any], terms: list[OrderBy], limit: int
) -> list[Any]:
    """Every matching run, filtered and sorted by the database in one query.

    The rows are read as plain tuples from the DB-API cursor: the run columns need no
    type processing, and SQLAlchemy's row objects would cost more than the query on
    thousands of runs.
    """
    query, clauses = _order_clauses(select(*RUN_COLUMNS).where(*where), terms)
    result = conn.execute(query.order_by(*clauses, *_TIE_BREAK).limit(limit))
    return list(result.cursor.fetchall())


def _select_by_metric_index(
    conn: Connection, where: list[Any], terms: list[OrderBy], limit: int
) -> list[Any]:
    """Runs in the order of the metric ``terms[0]``, read from its index until ``limit``.

    Same order as :func:`_select_sorted`: runs with a number first (ascending or
    descending), then runs whose value is NaN, then runs without the metric, each
    segment ordered by the remaining terms and the tie-break.
    """
    first, rest = terms[0], terms[1:]
    metric = aliased(LatestMetric, name="order_key")
    joined = select(*RUN_COLUMNS).select_from(metric).join(RunRow, RunRow.run_id == metric.run_id)
    numbers = joined.where(*where, metric.key == first.key, metric.is_nan == false())
    nans = joined.where(*where, metric.key == first.key, metric.is_nan == true())
    missing = select(*RUN_COLUMNS).where(
        *where,
        ~exists().where(LatestMetric.run_id == RunRow.run_id, LatestMetric.key == first.key),
    )
    found: list[Any] = []
    leading = [metric.value.asc() if first.ascending else metric.value.desc()]
    for segment, lead in ((numbers, leading), (nans, []), (missing, [])):
        query, clauses = _order_clauses(segment, rest, first_alias=1)
        query = query.order_by(*lead, *clauses, *_TIE_BREAK).limit(limit - len(found))
        found.extend(conn.execute(query).all())
        if len(found) >= limit:
            break
    return found


def _select(conn: Connection, where: list[Any], terms: list[OrderBy], limit: int) -> list[Any]:
    if terms and terms[0].entity == "metrics" and limit <= _INDEX_ORDER_MAX:
        return _select_by_metric_index(conn, where, terms, limit)
    return _select_sorted(conn, where, terms, limit)


def _conditions(
    experiment_ids: list[int] | None,
    filter_string: str | None,
    run_view_type: str,
    conn: Connection | None = None,
) -> list[Any]:
    stages = _VIEW_TYPES[view_type(run_view_type)]

    def datasets(comparison: Comparison) -> ColumnElement[bool]:
        assert conn is not None, "datasets.* filters need a connection"
        return RunRow.run_id.in_(sorted(inputs.runs_matching(conn, comparison)))

    where = [compile_filter(parse(filter_string), datasets), RunRow.lifecycle_stage.in_(stages)]
    if experiment_ids is not None:
        where.append(RunRow.experiment_id.in_(experiment_ids))
    return where


def _find(
    store: MetadataStore,
    experiment_ids: list[int] | None,
    filter_string: str | None,
    order_by: list[str] | None,
    max_results: int,
    run_view_type: str,
) -> results.Found:
    parse(filter_string)  # a syntax error before any work
    terms = parse_order_by(order_by)
    if max_results < 0:
        raise InvalidInput(f"max_results {max_results} must be zero or more.")
    runs.expire_stale(store)
    with store.read() as conn, _no_gc():
        where = _conditions(experiment_ids, filter_string, run_view_type, conn)
        rows = _select(conn, where, terms, max_results) if max_results else []
        return results.fetch(store, conn, rows)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of row tuples are made.

    None of them can form a cycle, so the collections their allocation triggers are
    wasted work (about 5 % of a search returning 5,000 runs).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def search(
    store: MetadataStore | RemoteStore,
    experiment_ids: list[int] | None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    max_results: int = 1000,
    run_view_type: str = "ACTIVE_ONLY",
) -> list[Run]:
    """Runs matching the filter, in the requested order, with params, metrics and tags."""
    if isinstance(store, RemoteStore):
        return remote.search(
            store, experiment_ids, filter_string, order_by, max_results, run_view_type
        )
    found = _find(store, experiment_ids, filter_string, order_by, max_results, run_view_type)
    return results.as_runs(found)


def search_frame(
    store: MetadataStore | RemoteStore,
    experiment_ids: list[int] | None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    max_results: int = 1000,
    run_view_type: str = "ACTIVE_ONLY",
) -> pd.DataFrame:
    """Like :func:`search`, as a DataFrame shaped like MLflow's ``search_runs`` result."""
    if isinstance(store, RemoteStore):
        found_runs = remote.search(
            store, experiment_ids, filter_string, order_by, max_results, run_view_type
        )
        return remote.as_frame(found_runs)
    found = _find(store, experiment_ids, filter_string, order_by, max_results, run_view_type)
    with _no_gc():
        return results.as_frame(found)
