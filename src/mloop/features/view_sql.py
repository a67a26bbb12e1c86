"""A feature view compiled to one DuckDB query of its feature rows.

Training sets join those rows point-in-time and materialization copies the latest of them
online, so both see the same values (docs/decisions/0032-features-transformations.md).
"""

from __future__ import annotations

from mloop.core.errors import InvalidInput
from mloop.features import dtypes
from mloop.features.feature_view import FeatureView
from mloop.features.transforms import AGGREGATES, Expression, Lag, WindowAgg, quote


def _interval(micros: int) -> str:
    return f"INTERVAL '{int(micros)} microseconds'"


def created_max(view: FeatureView) -> str:
    """The SQL literal above every ``__created`` value of ``view`` (for as-of comparisons)."""
    return "'infinity'::TIMESTAMP" if view.created_timestamp else "9223372036854775807::BIGINT"


def event_time_sql(view: FeatureView, source_types: dict[str, str]) -> str:
    """The view's event time as UTC ``TIMESTAMP`` (microseconds, no time zone)."""
    ts = quote(view.timestamp or "")
    aware = dtypes.is_aware(source_types.get(view.timestamp or "", ""))
    return f"timezone('UTC', {ts})" if aware else f"CAST({ts} AS TIMESTAMP)"


def compile_view(
    view: FeatureView, relation: str, source_types: dict[str, str], row_ids: bool = False
) -> str:
    """The query of ``view``'s feature rows over ``relation`` (a DuckDB table expression).

    Columns: the join keys, ``__ts`` (UTC event time, absent for static views), ``__created``
    (tie-breaker: the created timestamp, else the row's position in the source) and the
    features; with ``row_ids`` also ``__file`` and ``__rn``, the source file's index and
    the row's number in it, which name one source row. Rows without an event time are
    left out.
    """
    keys = [quote(k) for k in view.entity.join_keys]
    parts = ["*"]
    if view.timestamp:
        parts.append(f"{event_time_sql(view, source_types)} AS __ts")
    if view.created_timestamp:
        cr = quote(view.created_timestamp)
        aware = dtypes.is_aware(source_types.get(view.created_timestamp, ""))
        cast = f"timezone('UTC', {cr})" if aware else f"CAST({cr} AS TIMESTAMP)"
        parts.append(f"coalesce({cast}, '-infinity'::TIMESTAMP) AS __created")
    else:
        parts.append("file_row_number AS __created")
    if row_ids:
        parts.append("file_index AS __file, file_row_number AS __rn")
    where = f" WHERE {quote(view.timestamp)} IS NOT NULL" if view.timestamp else ""
    ctes = [f"t0 AS (SELECT {', '.join(parts)} FROM {relation}{where})"]
    top = created_max(view)
    for i, transform in enumerate(view.transforms):
        prev, out = f"t{i}", quote(transform.name)
        if isinstance(transform, Expression):
            body = f"SELECT *, ({transform.sql}) AS {out} FROM {prev}"
        elif isinstance(transform, WindowAgg):
            # [t - window, t]: minus the rows at t (EXCLUDE GROUP) = [t - window, t); DuckDB runs
            # this frame several times faster than one ending at "1 microsecond PRECEDING".
            frame = f"RANGE BETWEEN {_interval(transform.micros)} PRECEDING AND CURRENT ROW EXCLUDE GROUP"
            arg = quote(transform.column) if transform.column else "*"
            call = f"{AGGREGATES[transform.agg]}({arg}) OVER (PARTITION BY {', '.join(keys)} ORDER BY __ts {frame})"
            if transform.agg == "sum":
                call = f"coalesce({call}, 0)"
            body = f"SELECT *, {call} AS {out} FROM {prev}"
        elif isinstance(transform, Lag) and transform.events:
            column = quote(transform.column)
            call = (
                f"lag({column}, {transform.events}) OVER "
                f"(PARTITION BY {', '.join(keys)} ORDER BY __ts, __created)"
            )
            body = f"SELECT *, {f'{column} - {call}' if transform.delta else call} AS {out} FROM {prev}"
        elif isinstance(transform, Lag):
            column = quote(transform.column)
            on = " AND ".join(f"a.{k} = b.{k}" for k in keys)
            earlier = (
                f"SELECT {', '.join(keys)}, __ts + {_interval(transform.micros or 0)} AS __shift, "
                f"__created AS __c, {column} AS __v FROM {prev}"
            )
            value = f"a.{column} - b.__v" if transform.delta else "b.__v"
            body = (
                f"SELECT a.*, {value} AS {out} FROM {prev} a ASOF LEFT JOIN ({earlier}) b "
                f"ON {on} AND {{'t': a.__ts, 'c': {top}}} >= {{'t': b.__shift, 'c': b.__c}}"
            )
        else:  # pragma: no cover - from_dict builds only the kinds above
            raise InvalidInput(f"transformation {transform!r} cannot be compiled.")
        ctes.append(f"t{i + 1} AS ({body})")
    last = f"t{len(view.transforms)}"
    columns = [
        *keys,
        *(["__ts"] if view.timestamp else []),
        "__created",
        *(["__file", "__rn"] if row_ids else []),
        *(quote(f) for f in view.feature_names),
    ]
    select = f"SELECT {', '.join(columns)} FROM {last}"
    if not view.timestamp:  # static: one row per key, the last one wins
        select += f" QUALIFY row_number() OVER (PARTITION BY {', '.join(keys)} ORDER BY __created DESC) = 1"
    return f"WITH {', '.join(ctes)} {select}"
