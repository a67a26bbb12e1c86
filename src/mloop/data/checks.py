"""Data checks: what a column, a row or a whole table must satisfy.

>>> from mloop.data import Suite, checks
>>> suite = Suite("weather", [
...     checks.not_null("pressure", mostly=0.9, severity="warn"),
...     checks.between("wind_speed", 0, 150),
...     checks.in_set("origin", ["EWR", "JFK", "LGA"]),
...     checks.unique(["origin", "time_hour"]),
...     checks.expression("dewp <= temp + 0.5", name="dew point below temperature"),
... ])

Each constructor returns a :class:`Check`; a check has a name (``kind(column)`` unless
given), a severity (``error`` fails the validation, ``warn`` only reports) and, for
row-level checks, ``mostly``: the fraction of rows that must pass (1.0 by default).
Nulls never fail a value check (``between``, ``in_set``, ``regex``, ``unique``...);
``not_null`` is the check for them.

Every constructor checks its arguments when it is called, not when the suite runs: a
column that is not a non-empty string, an unknown severity, ``mostly`` outside [0, 1], or
arguments of the check that do not fit (``between`` without bounds or with ``min > max``,
an empty ``in_set``, a regex that does not compile...) raise
:class:`~mloop.errors.InvalidInput` naming the check and the fix.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mloop.core.errors import InvalidInput, did_you_mean
from mloop.data._types import FAMILIES

__all__ = [
    "KINDS",
    "Check",
    "between",
    "column",
    "custom",
    "dtype",
    "expression",
    "freshness",
    "from_dict",
    "in_set",
    "monotonic",
    "not_null",
    "regex",
    "row_count",
    "unique",
]

SEVERITIES = ("error", "warn")
# checks whose failures are rows (the others judge the schema or the table as a whole)
ROW_KINDS = (
    "not_null",
    "between",
    "in_set",
    "regex",
    "unique",
    "monotonic",
    "expression",
    "custom",
)


@dataclass(frozen=True)
class Check:
    """One rule. Build it with the constructors of this module, not directly."""

    kind: str
    name: str
    columns: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "error"
    mostly: float = 1.0
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def column(self) -> str | None:
        """The checked column (columns joined by ', ' for a compound key; None for table checks)."""
        return ", ".join(self.columns) if self.columns else None

    @property
    def row_level(self) -> bool:
        return self.kind in ROW_KINDS

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form: ``{"check": kind, "column": ..., params..., severity, mostly}``.

        Raises:
            InvalidInput: a custom check whose function cannot be imported by name.
        """
        data: dict[str, Any] = {"check": self.kind}
        if self.name != _default_name(self.kind, self.columns, self.params):
            data["name"] = self.name
        if self.kind == "unique" and len(self.columns) > 1:
            data["columns"] = list(self.columns)
        elif self.columns:
            data["column"] = self.columns[0]
        for key, value in self.params.items():
            data[key] = list(value) if isinstance(value, tuple) else value
        if self.kind == "custom":
            data["function"] = _function_path(self)
        if self.severity != "error":
            data["severity"] = self.severity
        if self.mostly != 1.0:
            data["mostly"] = self.mostly
        return data

    def with_severity(self, severity: str) -> Check:
        """A copy of the check with another severity."""
        return Check(
            self.kind,
            self.name,
            self.columns,
            self.params,
            _severity(severity),
            self.mostly,
            self.function,
        )


def _function_path(check: Check) -> str:
    function = check.function
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", "")
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise InvalidInput(
            f"custom check {check.name!r} uses {qualname or function!r}, which cannot be saved by name; "
            "define it as a module-level function in an importable module (e.g. myproject.checks) "
            "to store or export the suite."
        )
    return f"{module}:{qualname}"


def _default_name(kind: str, columns: tuple[str, ...], params: Mapping[str, Any]) -> str:
    if kind == "expression":
        return f"expression({params['sql']})"
    if kind == "row_count":
        return "row_count"
    return f"{kind}({', '.join(columns)})"


def _severity(value: str) -> str:
    value = "warn" if value == "warning" else value
    if value not in SEVERITIES:
        raise InvalidInput(
            f"severity {value!r} is not one of {', '.join(SEVERITIES)}; use 'error' or 'warn'."
        )
    return value


def _mostly(value: float, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise InvalidInput(
            f"{kind}: mostly = {value!r} must be a fraction between 0 and 1 (e.g. 0.95: 95 % of rows pass)."
        )
    return float(value)


def _column(value: Any, kind: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{kind}: column {value!r} must be a column name (a non-empty string).")
    return value


def _make(
    kind: str,
    columns: Iterable[str],
    params: Mapping[str, Any],
    severity: str,
    mostly: float,
    name: str | None,
    function: Callable[..., Any] | None = None,
) -> Check:
    columns = tuple(columns)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInput(f"{kind}: name {name!r} must be a non-empty string.")
    return Check(
        kind=kind,
        name=name or _default_name(kind, columns, params),
        columns=columns,
        params=dict(params),
        severity=_severity(severity),
        mostly=_mostly(mostly, kind),
        function=function,
    )


# -- constructors -----------------------------------------------------------------------


def column(column: str, *, severity: str = "error", name: str | None = None) -> Check:
    """The column is present."""
    return _make("column", [_column(column, "column")], {}, severity, 1.0, name)


def dtype(column: str, type: str, *, severity: str = "error", name: str | None = None) -> Check:
    """The column has ``type``: an exact name (``int64``, ``string``, ``timestamp[us, tz=UTC]``)
    or a family (``integer``, ``float``, ``numeric``, ``string``, ``boolean``, ``timestamp``...)."""
    if not isinstance(type, str) or not type:
        raise InvalidInput(
            f"dtype({column}): type {type!r} must be a type name or one of {', '.join(FAMILIES)}."
        )
    return _make("dtype", [_column(column, "dtype")], {"type": type}, severity, 1.0, name)


def not_null(
    column: str, *, mostly: float = 1.0, severity: str = "error", name: str | None = None
) -> Check:
    """Values are present (NaN counts as missing); ``mostly`` tolerates a fraction of nulls."""
    return _make("not_null", [_column(column, "not_null")], {}, severity, mostly, name)


def between(
    column: str,
    min: Any = None,
    max: Any = None,
    *,
    inclusive: bool | str = True,
    mostly: float = 1.0,
    severity: str = "error",
    name: str | None = None,
) -> Check:
    """Values lie in ``[min, max]`` (numbers, timestamps or strings; either bound may be None).

    ``inclusive``: True (both bounds), False (neither), ``"min"`` or ``"max"``.

    Raises:
        InvalidInput: no bound, ``min > max``, a bound of another type, or an unknown
            ``inclusive``.
    """
    label = f"between({column})"
    if min is None and max is None:
        raise InvalidInput(f"{label}: give min, max or both (e.g. between('{column}', 0, 100)).")
    if inclusive not in (True, False, "min", "max", "both", "neither"):
        raise InvalidInput(f"{label}: inclusive = {inclusive!r}; use True, False, 'min' or 'max'.")
    if inclusive in ("both", "neither"):
        inclusive = inclusive == "both"
    for bound in (min, max):
        if bound is not None and not isinstance(bound, int | float | str | datetime | timedelta):
            raise InvalidInput(
                f"{label}: bound {bound!r} must be a number, a date/time or a string."
            )
    if isinstance(min, int | float) and isinstance(max, int | float) and min > max:
        raise InvalidInput(f"{label}: min {min} is greater than max {max}; swap them.")
    params: dict[str, Any] = {"min": min, "max": max}
    if inclusive is not True:
        params["inclusive"] = inclusive
    return _make("between", [_column(column, "between")], params, severity, mostly, name)


def in_set(
    column: str,
    values: Iterable[Any],
    *,
    mostly: float = 1.0,
    severity: str = "error",
    name: str | None = None,
) -> Check:
    """Values are among ``values``.

    Raises:
        InvalidInput: ``values`` is not a list (a string is not), or is empty.
    """
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidInput(
            f"in_set({column}): values must be a list such as ['EWR', 'JFK'], not {values!r}."
        )
    listed = list(dict.fromkeys(values))
    if not listed:
        raise InvalidInput(f"in_set({column}): the set of allowed values is empty.")
    return _make("in_set", [_column(column, "in_set")], {"values": listed}, severity, mostly, name)


def regex(
    column: str,
    pattern: str,
    *,
    mostly: float = 1.0,
    severity: str = "error",
    name: str | None = None,
) -> Check:
    """Each value matches ``pattern`` as a whole (RE2 syntax: no look-arounds or back-references)."""
    try:
        re.compile(pattern)
    except (re.error, TypeError) as exc:
        raise InvalidInput(
            f"regex({column}): pattern {pattern!r} is not a regular expression: {exc}."
        ) from None
    return _make("regex", [_column(column, "regex")], {"pattern": pattern}, severity, mostly, name)


def unique(
    columns: str | Iterable[str],
    *,
    mostly: float = 1.0,
    severity: str = "error",
    name: str | None = None,
) -> Check:
    """No two rows share a value (or, for several columns, a compound key); rows with a null key are skipped.

    Every row of a duplicated key fails.
    """
    listed = [columns] if isinstance(columns, str) else list(columns)
    if not listed:
        raise InvalidInput("unique: give a column or a list of columns forming the key.")
    return _make("unique", [_column(c, "unique") for c in listed], {}, severity, mostly, name)


def row_count(
    min: int | None = None,
    max: int | None = None,
    *,
    severity: str = "error",
    name: str | None = None,
) -> Check:
    """The table has between ``min`` and ``max`` rows."""
    if min is None and max is None:
        raise InvalidInput("row_count: give min, max or both (e.g. row_count(min=1000)).")
    for bound in (min, max):
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, int) or bound < 0
        ):
            raise InvalidInput(f"row_count: bound {bound!r} must be a non-negative whole number.")
    if min is not None and max is not None and min > max:
        raise InvalidInput(f"row_count: min {min} is greater than max {max}; swap them.")
    return _make("row_count", [], {"min": min, "max": max}, severity, 1.0, name)


def freshness(
    column: str, max_age: str | timedelta, *, severity: str = "error", name: str | None = None
) -> Check:
    """The newest timestamp of ``column`` is at most ``max_age`` old (``"2h"``, ``"1 day"``, a timedelta)."""
    import pandas as pd

    try:
        age = pd.Timedelta(max_age)
    except (ValueError, TypeError):
        raise InvalidInput(
            f"freshness({column}): max_age {max_age!r} is not a duration; use e.g. '2h', '30min' or '1 day'."
        ) from None
    if pd.isna(age) or age <= pd.Timedelta(0):
        raise InvalidInput(f"freshness({column}): max_age {max_age!r} must be a positive duration.")
    text = max_age if isinstance(max_age, str) else str(age)
    return _make(
        "freshness", [_column(column, "freshness")], {"max_age": text}, severity, 1.0, name
    )


def monotonic(
    column: str,
    *,
    increasing: bool = True,
    strict: bool = False,
    mostly: float = 1.0,
    severity: str = "error",
    name: str | None = None,
) -> Check:
    """Values never go down (``increasing``) or up, in row order; a failing row breaks the order."""
    params = {"increasing": bool(increasing), "strict": bool(strict)}
    return _make("monotonic", [_column(column, "monotonic")], params, severity, mostly, name)


def expression(
    sql: str, *, mostly: float = 1.0, severity: str = "error", name: str | None = None
) -> Check:
    """A SQL condition over the columns of a row, evaluated with DuckDB (``"dewp <= temp"``).

    A row fails when the condition is false; a NULL result (from null inputs) passes.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInput("expression: give a SQL condition such as 'dewp <= temp'.")
    return _make("expression", [], {"sql": sql.strip()}, severity, mostly, name)


def custom(
    function: Callable[..., Any] | str,
    *,
    name: str | None = None,
    columns: Iterable[str] = (),
    mostly: float = 1.0,
    severity: str = "error",
) -> Check:
    """A vectorised Python function of the DataFrame returning a boolean per row (True passes)
    or one boolean for the whole table. ``function`` may be ``"module:function"``.
    """
    if isinstance(function, str):
        function = _import(function)
    if not callable(function):
        raise InvalidInput(
            f"custom: {function!r} is not callable; give a function of the DataFrame."
        )
    label = name or getattr(function, "__name__", "custom")
    if label == "<lambda>":
        label = "custom"
    return _make(
        "custom", list(columns), {}, severity, mostly, name or f"custom({label})", function
    )


def _import(path: str) -> Callable[..., Any]:
    import importlib

    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise InvalidInput(
            f"custom: function {path!r} must be written 'module.path:function_name'."
        )
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(
            f"custom: cannot import {path!r} ({exc}); check the module and function names."
        ) from None
    return target


CONSTRUCTORS: dict[str, Callable[..., Check]] = {
    "column": column,
    "dtype": dtype,
    "not_null": not_null,
    "between": between,
    "in_set": in_set,
    "regex": regex,
    "unique": unique,
    "row_count": row_count,
    "freshness": freshness,
    "monotonic": monotonic,
    "expression": expression,
    "custom": custom,
}
KINDS = tuple(CONSTRUCTORS)


def from_dict(data: Mapping[str, Any], where: str = "") -> Check:
    """Rebuild a check from its :meth:`Check.to_dict` form (as read from YAML).

    Raises:
        InvalidInput: unknown check kind, unknown or missing parameters, bad values.
    """
    place = f"{where}: " if where else ""
    if not isinstance(data, Mapping):
        raise InvalidInput(
            f"{place}a check must be a mapping like {{check: not_null, column: x}}, not {data!r}."
        )
    arguments = dict(data)
    kind = arguments.pop("check", None)
    if kind not in CONSTRUCTORS:
        raise InvalidInput(
            f"{place}check type {kind!r} is unknown."
            + did_you_mean(str(kind), KINDS)
            + f" Known types: {', '.join(KINDS)}."
        )
    constructor = CONSTRUCTORS[kind]
    if kind == "unique" and "column" in arguments:
        arguments["columns"] = arguments.pop("column")
    if kind == "custom" and "function" not in arguments:
        raise InvalidInput(f"{place}custom check needs 'function: module.path:function_name'.")
    signature = inspect.signature(constructor)
    unknown = [key for key in arguments if key not in signature.parameters]
    if unknown:
        allowed = list(signature.parameters)
        raise InvalidInput(
            f"{place}{kind} check has unknown parameter {unknown[0]!r}."
            + did_you_mean(unknown[0], allowed)
            + f" It takes: {', '.join(allowed)}."
        )
    try:
        signature.bind(**arguments)
    except TypeError as exc:
        raise InvalidInput(
            f"{place}{kind} check: {exc}. It takes: {', '.join(signature.parameters)}."
        ) from None
    try:
        return constructor(**arguments)
    except InvalidInput as exc:
        raise InvalidInput(f"{place}{exc}") from None
