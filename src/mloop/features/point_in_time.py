"""The one point-in-time join: DuckDB ASOF JOIN of an entity frame with feature rows.

For each entity row (keys, time ``t``) and each feature view, take the view's latest row
with the same keys and ``event time <= t``; among rows at the same event time the one with
the greatest created timestamp wins (without one, the later row of the source). A row
older than the view's ttl yields nulls, and so does an entity with no history. A static
view (no timestamp) is a plain join on the keys.

Every training set goes through :func:`point_in_time_join`; a naive reference
implementation in the tests checks it on random data (hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mloop.features.offline import connect
from mloop.features.transforms import quote
from mloop.features.view_sql import created_max

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from mloop.features.feature_view import FeatureView


@dataclass(frozen=True)
class ViewJoin:
    """One view in a join: its feature-row query and the features to take (feature, output).

    With ``late``, the query also yields ``__file`` and ``__rn`` (see :func:`compile_view`)
    and the join first matches rows on keys and time alone, then fetches the features of
    the matched rows (late materialization).
    """

    view: FeatureView
    query: str
    columns: tuple[tuple[str, str], ...]
    unique_times: bool = False  # no two rows share keys and event time: no tie-breaker needed
    late: bool = False


def point_in_time_join(
    con: duckdb.DuckDBPyConnection, entity: pa.Table, joins: list[ViewJoin]
) -> pd.DataFrame:
    """Feature columns for every row of ``entity``, in its row order (a fresh RangeIndex).

    ``entity`` holds ``__row`` (0..n-1), the join keys and ``__ts`` (UTC, microseconds,
    no time zone); the result holds one column per requested feature, named by ``columns``.

    The as-of join sorts every feature row it may match, so it carries only what the
    match needs: for ``late`` views the keys, times and row ids; their features are then
    fetched by row id in a second query (a hash join on the matched rows, streaming the
    source). On a wide feature table this takes less memory and time than carrying every
    feature through the sort.
    """
    import numpy as np

    late = any(join.late for join in joins)
    # a DuckDB instance keeps the memory of a finished query until it closes (~100 MB for
    # 1M matched rows): the match runs in its own instance, closed before the fetch
    matcher = connect() if late else con
    try:
        table = _arrow(matcher, _as_of_sql(joins), "__entity", entity)
    finally:
        if late:
            matcher.close()
    if late:
        table = _arrow(con, _fetch_sql(joins), "__matched", table)
    rows = table.column("__row").to_numpy()
    order = np.empty(len(rows), dtype=np.int64)
    order[rows] = np.arange(len(rows), dtype=np.int64)
    frame = table.drop(["__row"]).to_pandas()  # one multi-threaded conversion, then a numpy take
    return frame.take(order).reset_index(drop=True)


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, name: str, registered: pa.Table) -> pa.Table:
    """The result of ``sql`` as Arrow, with ``registered`` visible to it as ``name``."""
    con.register(name, registered)
    try:
        table = con.sql(sql).to_arrow_table()
        assert table is not None
        return table
    finally:
        con.unregister(name)


def _as_of_sql(joins: list[ViewJoin]) -> str:
    """Each entity row with its views' matched features (or, for late views, row ids)."""
    ctes, selects, clauses = [], ["e.__row"], []
    for i, join in enumerate(joins):
        alias = f"v{i}"
        view = join.view
        ctes.append(f"{alias} AS ({join.query})")
        on = " AND ".join(f"e.{quote(k)} = {alias}.{quote(k)}" for k in view.entity.join_keys)
        if view.timestamp:
            top = created_max(view)
            asof = f"{{'t': e.__ts, 'c': {top}}} >= {{'t': {alias}.__ts, 'c': {alias}.__created}}"
            if join.unique_times:  # the struct costs ~30 % of the join; without ties it is moot
                asof = f"e.__ts >= {alias}.__ts"
            clauses.append(f"ASOF LEFT JOIN {alias} ON {on} AND {asof}")
        else:
            clauses.append(f"LEFT JOIN {alias} ON {on}")
        fresh = None
        if view.timestamp and view.ttl_micros:
            fresh = f"{alias}.__ts >= e.__ts - INTERVAL '{view.ttl_micros} microseconds'"
        if join.late:  # the row id, null when stale: the fetch then finds nothing
            selects.append(f"{alias}.__file AS __file{i}")
            taken = [(f"{alias}.__rn", f"__rn{i}")]
        else:
            taken = [(f"{alias}.{quote(f)}", output) for f, output in join.columns]
        for value, output in taken:
            if fresh:
                value = f"CASE WHEN {fresh} THEN {value} END"
            selects.append(f"{value} AS {quote(output)}")
    with_clause = f"WITH {', '.join(ctes)} " if ctes else ""
    return f"{with_clause}SELECT {', '.join(selects)} FROM __entity e {' '.join(clauses)}"


def _fetch_sql(joins: list[ViewJoin]) -> str:
    """The matched rows' features of late views; other views' columns pass through."""
    ctes, selects, clauses = [], ["m.__row"], []
    for i, join in enumerate(joins):
        if not join.late:
            selects += [f"m.{quote(output)}" for _, output in join.columns]
            continue
        alias = f"g{i}"
        ctes.append(f"{alias} AS ({join.query})")
        clauses.append(
            f"LEFT JOIN {alias} ON {alias}.__file = m.__file{i} AND {alias}.__rn = m.__rn{i}"
        )
        selects += [f"{alias}.{quote(f)} AS {quote(output)}" for f, output in join.columns]
    return (
        f"WITH {', '.join(ctes)} SELECT {', '.join(selects)} FROM __matched m {' '.join(clauses)}"
    )
