"""Transformations of a feature view, compiled once to SQL for training and serving alike.

- :func:`expression` -- a row-level SQL expression over the source's columns;
- :func:`lag` / :func:`delta` -- a column's earlier value per entity (``n`` events back, or
  as of a duration earlier) and the change since then;
- :func:`window_agg` -- count, sum, mean, min, max or std per entity over a time window
  that ends *before* the event: never the event itself, nor rows at the same time or later.

:func:`mloop.features.view_sql.compile_view` turns a view into one DuckDB query producing its feature rows
(keys, event time, created time, features). Training sets join those rows point-in-time
and materialization copies the latest of them online, so both see the same values.

>>> fs.delta("pressure", "3h", name="pressure_change_3h")
>>> fs.window_agg("dep_delay", "mean", "7d", name="dep_delay_mean_7d")
>>> fs.expression("wind_speed * 0.868976", name="wind_knots")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.features.duration import format_micros, to_micros
from mloop.features.entity import check_name

AGGREGATES = {
    "count": "count",
    "sum": "sum",
    "mean": "avg",
    "min": "min",
    "max": "max",
    "std": "stddev_samp",
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Transform:
    """Base of the transformations; ``name`` is the feature it produces."""

    name: str

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def inputs(self, columns: list[str]) -> list[str]:
        """The source columns this transformation reads (among ``columns``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Expression(Transform):
    sql: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "expression", "name": self.name, "sql": self.sql}

    def inputs(self, columns: list[str]) -> list[str]:
        tokens = set(_IDENT.findall(self.sql))
        return [c for c in columns if c in tokens]


@dataclass(frozen=True)
class Lag(Transform):
    column: str
    events: int | None  # n events back
    micros: int | None  # or: as of this long before the event
    delta: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "delta" if self.delta else "lag",
            "name": self.name,
            "column": self.column,
            "events": self.events,
            "micros": self.micros,
        }

    def inputs(self, columns: list[str]) -> list[str]:
        return [self.column]


@dataclass(frozen=True)
class WindowAgg(Transform):
    column: str | None  # None counts events
    agg: str
    micros: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "window",
            "name": self.name,
            "column": self.column,
            "agg": self.agg,
            "micros": self.micros,
        }

    def inputs(self, columns: list[str]) -> list[str]:
        return [self.column] if self.column else []


def expression(sql: str, *, name: str) -> Expression:
    """A row-level feature from a DuckDB SQL expression over the row's columns.

    >>> expression("temp - dewp", name="dewpoint_spread")
    """
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInput(f"expression for '{name}' is empty; give SQL such as 'a / b'.")
    return Expression(check_name(name, "feature"), sql)


def _by(by: int | str | timedelta, what: str) -> tuple[int | None, int | None]:
    if isinstance(by, int) and not isinstance(by, bool):
        if by < 1:
            raise InvalidInput(f"{what} = {by} must be at least 1 event.")
        return by, None
    return None, to_micros(by, what)


def lag(column: str, by: int | str | timedelta = 1, *, name: str | None = None) -> Lag:
    """The value of ``column`` ``by`` events earlier (an int), or as of ``by`` earlier (a duration).

    As of a duration means the entity's latest row at or before ``event time - by``.

    >>> lag("temp", 1)            # previous reading
    >>> lag("temp", "24h")        # the reading as of a day earlier
    """
    events, micros = _by(by, f"lag of '{column}'")
    label = str(events) if events else format_micros(micros)
    return Lag(check_name(name or f"{column}_lag_{label}", "feature"), column, events, micros)


def delta(column: str, by: int | str | timedelta = 1, *, name: str | None = None) -> Lag:
    """``column`` minus its :func:`lag` (e.g. the pressure change over 3 hours).

    >>> delta("pressure", "3h", name="pressure_change_3h")
    """
    events, micros = _by(by, f"delta of '{column}'")
    label = str(events) if events else format_micros(micros)
    return Lag(
        check_name(name or f"{column}_change_{label}", "feature"),
        column,
        events,
        micros,
        delta=True,
    )


def window_agg(
    column: str | None, agg: str, window: str | timedelta, *, name: str | None = None
) -> WindowAgg:
    """``agg`` of ``column`` over the entity's rows in ``[event time - window, event time)``.

    ``agg`` is one of count, sum, mean, min, max, std. Nulls are ignored; ``count`` counts
    non-null values (``column=None`` counts rows) and ``sum`` of nothing is 0. The event
    itself and every row at the same time or later are excluded.

    >>> window_agg("dep_delay", "mean", "7d", name="dep_delay_mean_7d")
    """
    if agg not in AGGREGATES:
        raise InvalidInput(
            f"window aggregate {agg!r} is unknown; use one of {', '.join(AGGREGATES)}."
        )
    if column is None and agg != "count":
        raise InvalidInput(f"window aggregate {agg!r} needs a column; only 'count' counts rows.")
    micros = to_micros(window, f"window of {agg}({column})")
    assert micros is not None
    default = f"{column or 'rows'}_{agg}_{format_micros(micros)}"
    return WindowAgg(check_name(name or default, "feature"), column, agg, micros)


def from_dict(data: dict[str, Any]) -> Transform:
    kind = data["kind"]
    if kind == "expression":
        return Expression(data["name"], data["sql"])
    if kind in ("lag", "delta"):
        return Lag(
            data["name"], data["column"], data["events"], data["micros"], delta=kind == "delta"
        )
    if kind == "window":
        return WindowAgg(data["name"], data["column"], data["agg"], data["micros"])
    raise InvalidInput(f"transformation kind {kind!r} is unknown to this version of mloop.")
