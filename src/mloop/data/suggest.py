"""Suggest a suite from reference data, for a person to review and save.

>>> suite = suggest_suite(january_to_june)
>>> print(suite.to_yaml())          # review: drop or relax what does not hold in general
>>> suite.without("in_set(origin)").save()

For every column: presence and type family; not-null (strict when the reference has no
nulls, else a warning tolerating a little more than the reference's null rate); for
numbers a range from the reference's 0.1 % and 99.9 % quantiles widened by ``margin`` of
their span (so one wild value in the reference does not widen the range to it); for text
with few distinct values the set of values; uniqueness for whole-number and text columns
without repeats; and a pattern for text whose values share one shape (dates, codes).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.data import checks
from mloop.data._types import column_type, family
from mloop.data.datasets import load
from mloop.data.suite import Suite

if TYPE_CHECKING:
    import pandas as pd

    from mloop.data.checks import Check

__all__ = ["suggest_suite"]

_LOW_QUANTILE, _HIGH_QUANTILE = 0.001, 0.999
_PATTERN_SAMPLE = 10_000
_FAMILY_CHECKED = (
    "integer",
    "float",
    "string",
    "boolean",
    "timestamp",
    "date",
    "category",
    "duration",
    "decimal",
)


def suggest_suite(
    reference: pd.DataFrame,
    name: str = "suggested",
    *,
    margin: float = 0.1,
    max_set: int = 20,
    null_slack: float = 0.5,
) -> Suite:
    """Propose checks that ``reference`` passes and that catch the usual faults in new data.

    ``margin`` widens numeric ranges by that fraction of the quantile span; ``max_set`` is
    the most distinct values for which a text column gets an allowed set; ``null_slack``
    lets new data have that much more nulls, relatively, than the reference.

    Raises:
        InvalidInput: the reference is not a DataFrame or has no rows.
    """
    import pandas as pd

    if isinstance(reference, str):
        reference = load(reference)
    if not isinstance(reference, pd.DataFrame):
        raise InvalidInput(
            f"suggest_suite needs a pandas DataFrame (or a dataset reference), not {type(reference).__name__}."
        )
    if len(reference) == 0:
        raise InvalidInput(
            "suggest_suite: the reference has no rows; give data that shows what is normal."
        )
    if not 0 <= margin <= 10:
        raise InvalidInput(f"suggest_suite: margin = {margin} should be a fraction such as 0.1.")
    suggested: list[Check] = []
    for label in reference.columns:
        column = str(label)
        series = reference[label]
        suggested += _column_checks(column, series, margin, max_set, null_slack)
    rows = len(reference)
    description = f"suggested from {rows:,} reference rows; review before saving"
    return Suite(name, suggested, description)


def _column_checks(
    column: str, series: pd.Series, margin: float, max_set: int, null_slack: float
) -> list[Check]:
    found: list[Check] = [checks.column(column)]
    type_name = column_type(series)
    kind = family(type_name)
    found.append(checks.dtype(column, kind if kind in _FAMILY_CHECKED else type_name))
    nulls = float(series.isna().mean())
    if nulls == 0.0:
        found.append(checks.not_null(column))
    else:
        mostly = math.floor((1.0 - min(1.0, nulls * (1.0 + null_slack) + 0.01)) * 1000) / 1000
        if mostly >= 0.5:  # a mostly-null column gets no null check: any rate would be noise
            found.append(checks.not_null(column, mostly=mostly, severity="warn"))
    present = series.dropna()
    if present.empty:
        return found
    if kind in ("integer", "float", "decimal"):
        found.append(_range(column, present, kind, margin))
    elif kind in ("string", "category", "boolean"):
        values = present.astype(str) if kind != "string" else present
        distinct = values.nunique()
        if distinct <= max_set and len(values) >= 2 * distinct:
            allowed_values: list[Any] = sorted(values.unique().tolist())
            if kind == "boolean":
                allowed_values = sorted(present.unique().tolist())
            found.append(checks.in_set(column, allowed_values))
        elif kind == "string":
            pattern = _shared_pattern(values)
            if pattern is not None:
                found.append(checks.regex(column, pattern))
    if kind in ("integer", "string") and len(present) >= 20 and present.is_unique:
        found.append(checks.unique(column))
    return found


def _range(column: str, present: pd.Series, kind: str, margin: float) -> Check:
    import numpy as np

    values = present.to_numpy(dtype=np.float64)
    low, high = np.quantile(values, [_LOW_QUANTILE, _HIGH_QUANTILE])
    span = high - low
    if span == 0:
        span = abs(high) * 0.01 or 1.0
    lower, upper = low - margin * span, high + margin * span
    if values.min() >= 0 and lower < 0:
        lower = 0.0  # a quantity that was never negative stays non-negative
    if values.max() <= 0 and upper > 0:
        upper = 0.0
    if kind == "integer":
        return checks.between(column, math.floor(lower), math.ceil(upper))
    return checks.between(column, _round(lower, math.floor), _round(upper, math.ceil))


def _round(value: float, direction: Any) -> float:
    """Round outward to 4 significant digits so the bound reads well and still contains the value."""
    if value == 0:
        return 0.0
    digits = 3 - math.floor(math.log10(abs(value)))
    scale = 10.0**digits
    return round(direction(value * scale) / scale, max(digits, 0))


def _shared_pattern(values: pd.Series) -> str | None:
    """A regex every sampled value fits, from runs of digits and letters (None when shapes differ)."""
    sample = values.drop_duplicates().head(_PATTERN_SAMPLE).tolist()
    exact = {_shape(v, exact=True) for v in sample}
    if len(exact) == 1:
        return exact.pop()
    loose = {_shape(v, exact=False) for v in sample}
    return loose.pop() if len(loose) == 1 else None


_RUNS = re.compile(r"[0-9]+|[A-Za-z]+|.", re.DOTALL)
_SPECIAL = set(".^$*+?{}[]\\|()")


def _shape(value: str, exact: bool) -> str:
    parts = []
    for run in _RUNS.findall(value):
        if run[0] in "0123456789":
            parts.append(r"\d" + _times(len(run), exact))
        elif run.isascii() and run.isalpha():
            parts.append("[A-Za-z]" + _times(len(run), exact))
        else:
            parts.append("\\" + run if run in _SPECIAL else run)
    return "".join(parts)


def _times(count: int, exact: bool) -> str:
    if not exact:
        return "+"
    return "" if count == 1 else f"{{{count}}}"
