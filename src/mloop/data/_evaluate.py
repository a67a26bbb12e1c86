"""How each kind of check is evaluated on a DataFrame: one vectorised kernel per check.

A kernel returns an :class:`Outcome`: for row-level checks a boolean mask of the failing
rows; for table-level checks only a verdict. Kernels work on the columns' own buffers
(numpy for numbers and dates, Arrow compute for strings, a sort for uniqueness, DuckDB
for SQL expressions), never a Python loop over rows.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.errors import did_you_mean
from mloop.data._types import column_type, family, matches

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.data.checks import Check


@dataclass
class Outcome:
    """What a kernel found. ``mask`` marks failing rows; ``error`` means it could not run."""

    passed: bool | None = None  # for table-level checks; row checks derive it from mask and mostly
    mask: np.ndarray | None = None
    failed: int = 0
    observed: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    error: str | None = None
    seconds: float = 0.0


PARALLEL_ROWS = 100_000  # from this many rows the kernels share two threads


def evaluate(checks: list[Check], frame: pd.DataFrame, now: Any = None) -> list[Outcome]:
    """Evaluate every check on ``frame`` (expressions together in one DuckDB query).

    Kernels spend their time in numpy, Arrow and DuckDB, which release the GIL, so on large
    frames they run on two threads (custom functions run alone: user code may not be
    thread-safe).
    """
    outcomes: list[Outcome | None] = [None] * len(checks)
    expressions = [i for i, check in enumerate(checks) if check.kind == "expression"]
    if expressions:
        found = _expressions([checks[i] for i in expressions], frame)
        for i, outcome in zip(expressions, found, strict=True):
            outcomes[i] = outcome
    pending = [i for i in range(len(checks)) if outcomes[i] is None]
    shared = [i for i in pending if checks[i].kind != "custom"]
    workers = min(2, os.cpu_count() or 1)
    if len(frame) >= PARALLEL_ROWS and len(shared) > 1 and workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            for i, outcome in zip(
                shared, pool.map(lambda i: _run(checks[i], frame, now), shared), strict=True
            ):
                outcomes[i] = outcome
    for i in pending:
        if outcomes[i] is None:
            outcomes[i] = _run(checks[i], frame, now)
    return [o for o in outcomes if o is not None]


def _run(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    start = time.perf_counter()
    missing = [c for c in check.columns if c not in frame.columns]
    if missing and check.kind == "column":
        outcome = Outcome(passed=False, message=_missing(missing[0], frame).error or "")
    elif missing:
        outcome = _missing(missing[0], frame)
    else:
        try:
            outcome = _KERNELS[check.kind](check, frame, now)
        except _Unsupported as exc:
            outcome = Outcome(error=str(exc))
    outcome.seconds = time.perf_counter() - start
    return outcome


class _Unsupported(Exception):
    """The check cannot run on this column (wrong type, bad pattern...)."""


def _missing(name: str, frame: pd.DataFrame) -> Outcome:
    columns = [str(c) for c in frame.columns]
    shown = ", ".join(columns[:20]) + (" ..." if len(columns) > 20 else "")
    return Outcome(
        error=f"column {name!r} is not in the data."
        + did_you_mean(name, columns)
        + f" Columns: {shown}. Fix the column name in the check or add the column."
    )


def _finish(mask: np.ndarray | None, message: str, **observed: Any) -> Outcome:
    import numpy as np

    if mask is None:
        return Outcome(mask=None, failed=0, message=message, observed=observed)
    failed = int(np.count_nonzero(mask))
    return Outcome(mask=mask if failed else None, failed=failed, message=message, observed=observed)


def _numbers(series: pd.Series) -> np.ndarray | None:
    """The column as a numpy array for comparisons, or None when pandas must compare."""
    import numpy as np

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return series.to_numpy(copy=False)
    inner = getattr(dtype, "numpy_dtype", None)  # masked Int64 / Float64
    if inner is not None and inner.kind in "iuf":
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def _as_bool(values: Any) -> np.ndarray:
    """A pandas/numpy boolean result as a numpy bool array, missing as False."""
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.Series | pd.api.extensions.ExtensionArray):
        flags: Any = pd.array(values, dtype="boolean")  # type: ignore[call-overload]
        values = flags.fillna(False).to_numpy(dtype=bool)
    return np.asarray(values, dtype=bool)


def _nulls(series: pd.Series) -> np.ndarray:
    import numpy as np

    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            return np.isnan(series.to_numpy(copy=False))
        if dtype.kind in "iub":
            return np.zeros(len(series), dtype=bool)
    return _as_bool(series.isna())


# -- kernels ----------------------------------------------------------------------------


def _column_present(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    return Outcome(passed=True, message="present")


def _dtype(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    wanted = check.params["type"]
    actual = column_type(frame[check.columns[0]])
    if matches(actual, wanted):
        return Outcome(passed=True, message=f"type {actual}", observed={"type": actual})
    return Outcome(
        passed=False,
        observed={"type": actual},
        message=f"type is {actual}, expected {wanted}; cast the column (df[col].astype(...)) or change the check",
    )


def _not_null(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    mask = _nulls(frame[check.columns[0]])
    outcome = _finish(mask, "")
    outcome.message = f"{outcome.failed} missing values" if outcome.failed else "no missing values"
    return outcome


def _between(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np
    import pandas as pd

    series = frame[check.columns[0]]
    low, high = check.params.get("min"), check.params.get("max")
    inclusive = check.params.get("inclusive", True)
    values: Any = _numbers(series)
    kind = family(column_type(series))
    numeric_bounds = all(b is None or isinstance(b, int | float) for b in (low, high))
    if values is None:
        if kind in ("timestamp", "date"):
            values = series
            low, high = (_timestamp(b, series) for b in (low, high))
        elif kind in ("string", "category") and not numeric_bounds:
            values = series
        else:
            raise _Unsupported(
                f"between needs a numeric, date/time or string column; {check.columns[0]!r} is "
                f"{column_type(series)}. Cast it or use another check."
            )
    elif not numeric_bounds:
        raise _Unsupported(
            f"bounds {low!r}..{high!r} are not numbers but {check.columns[0]!r} is numeric."
        )
    fail = np.zeros(len(series), dtype=bool)
    with np.errstate(invalid="ignore"):
        if low is not None:
            below = values <= low if inclusive in (False, "max") else values < low
            fail |= _as_bool(below)
        if high is not None:
            above = values >= high if inclusive in (False, "min") else values > high
            fail |= _as_bool(above)
    outcome = _finish(fail, "")
    if outcome.failed:
        bad = series[fail] if isinstance(values, pd.Series) else values[fail]
        outcome.observed = {"min_failing": _plain(bad.min()), "max_failing": _plain(bad.max())}
        outcome.message = (
            f"{outcome.failed} values outside [{_plain(low)}, {_plain(high)}] "
            f"(from {outcome.observed['min_failing']} to {outcome.observed['max_failing']})"
        )
    else:
        outcome.message = "all values in range"
    return outcome


def _timestamp(bound: Any, series: pd.Series) -> Any:
    import pandas as pd

    if bound is None:
        return None
    value = pd.Timestamp(bound)
    tz = getattr(series.dtype, "tz", None)
    if tz is not None and value.tzinfo is None:
        value = value.tz_localize(tz)
    elif tz is None and value.tzinfo is not None:
        value = value.tz_convert(None)
    return value


def _in_set(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    series = frame[check.columns[0]]
    allowed = list(check.params["values"])
    values = _numbers(series)
    if isinstance(series.dtype, pd.CategoricalDtype):
        known = np.asarray(series.cat.categories.isin(allowed), dtype=bool)
        codes = series.cat.codes.to_numpy()
        fail = (codes >= 0) & ~np.append(known, True)[codes]
    elif values is not None:
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in allowed):
            raise _Unsupported(
                f"{check.columns[0]!r} is numeric but the allowed values {allowed[:5]} are not all numbers."
            )
        fail = ~np.isin(values, np.asarray(allowed)) & ~np.isnan(
            values.astype(np.float64, copy=False)
        )
    elif family(column_type(series)) == "string":
        array = pa.array(series, from_pandas=True)
        if pa.types.is_null(array.type):  # nothing but nulls
            return _finish(None, "all values null")
        try:
            inside = pc.is_in(array, value_set=pa.array([str(v) for v in allowed], type=array.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise _Unsupported(
                f"cannot compare {check.columns[0]!r} with the allowed values: {exc}"
            ) from None
        fail = (~_as_bool(inside.to_numpy(zero_copy_only=False))) & array.is_valid().to_numpy(
            zero_copy_only=False
        )
    else:
        fail = ~_as_bool(series.isin(allowed)) & ~_nulls(series)
    outcome = _finish(fail, "")
    if outcome.failed:
        unexpected = pd.Series(series[fail]).value_counts().head(5)
        outcome.observed = {"unexpected": {str(k): int(v) for k, v in unexpected.items()}}
        shown = ", ".join(f"{k!r} ({v})" for k, v in outcome.observed["unexpected"].items())
        outcome.message = f"{outcome.failed} values not in the allowed set, e.g. {shown}"
    else:
        outcome.message = "all values allowed"
    return outcome


def _regex(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import pyarrow as pa
    import pyarrow.compute as pc

    series = frame[check.columns[0]]
    if family(column_type(series)) not in ("string", "category"):
        raise _Unsupported(
            f"regex needs a string column; {check.columns[0]!r} is {column_type(series)}."
        )
    array = pa.array(series, from_pandas=True)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    try:
        matched = pc.match_substring_regex(array, f"^(?:{check.params['pattern']})$")
    except pa.ArrowInvalid as exc:
        raise _Unsupported(f"pattern {check.params['pattern']!r} is not valid RE2: {exc}") from None
    fail = ~_as_bool(matched.to_numpy(zero_copy_only=False)) & array.is_valid().to_numpy(
        zero_copy_only=False
    )
    outcome = _finish(fail, "")
    outcome.message = (
        f"{outcome.failed} values do not match" if outcome.failed else "all values match"
    )
    return outcome


def _unique(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np

    columns = list(check.columns)
    fail = None
    if len(columns) == 1:
        values = _numbers(frame[columns[0]])
        if values is not None:
            fail = _repeated_numbers(values)
    if fail is None:
        key = frame[columns]
        null_key = np.zeros(len(frame), dtype=bool)
        for name in columns:
            null_key |= _nulls(frame[name])
        fail = key.duplicated(keep=False).to_numpy() & ~null_key
    outcome = _finish(fail, "")
    if outcome.failed:
        groups = frame.loc[fail, columns].drop_duplicates()
        outcome.observed = {"duplicated_keys": len(groups)}
        outcome.message = f"{outcome.failed} rows share {len(groups)} duplicated keys"
    else:
        outcome.message = "all keys unique"
    return outcome


def _repeated_numbers(values: np.ndarray) -> np.ndarray:
    """Rows whose number appears more than once (NaN never repeats): a sort, then a lookup."""
    import numpy as np

    ordered = np.sort(values)
    repeats = ordered[1:] == ordered[:-1]
    if not repeats.any():
        return np.zeros(values.shape[0], dtype=bool)
    return np.isin(values, np.unique(ordered[1:][repeats]))


def _monotonic(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np

    series = frame[check.columns[0]]
    values = _numbers(series)
    if values is None:
        if family(column_type(series)) not in ("timestamp", "date", "duration"):
            raise _Unsupported(
                f"monotonic needs a numeric or date/time column; {check.columns[0]!r} is {column_type(series)}."
            )
        from mloop.data.profile import numeric_values

        values = numeric_values(series)
    values = values.astype(np.float64, copy=False)
    present = np.flatnonzero(~np.isnan(values))
    steps = np.diff(values[present])
    if not check.params["increasing"]:
        steps = -steps
    broken = steps <= 0 if check.params["strict"] else steps < 0
    fail = np.zeros(len(series), dtype=bool)
    fail[present[1:][broken]] = True
    direction = "increase" if check.params["increasing"] else "decrease"
    outcome = _finish(fail, "")
    outcome.message = (
        f"{outcome.failed} rows break the {'strict ' if check.params['strict'] else ''}{direction}"
        if outcome.failed
        else f"values {direction}"
    )
    return outcome


def _row_count(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    rows = len(frame)
    low, high = check.params.get("min"), check.params.get("max")
    passed = (low is None or rows >= low) and (high is None or rows <= high)
    wanted = (
        f"between {low} and {high}"
        if low is not None and high is not None
        else (f"at least {low}" if low is not None else f"at most {high}")
    )
    message = f"{rows} rows" + ("" if passed else f", expected {wanted}")
    return Outcome(passed=passed, observed={"rows": rows}, message=message)


def _freshness(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import pandas as pd

    series = frame[check.columns[0]]
    kind = family(column_type(series))
    if kind == "string":
        try:
            series = pd.to_datetime(series, utc=True)
        except (ValueError, TypeError):
            raise _Unsupported(
                f"freshness needs timestamps; {check.columns[0]!r} holds text that is not a date/time."
            ) from None
    elif kind not in ("timestamp", "date"):
        raise _Unsupported(
            f"freshness needs a timestamp column; {check.columns[0]!r} is {column_type(series)}."
        )
    newest = pd.Timestamp(series.max())
    if pd.isna(newest):
        return Outcome(passed=False, message="no timestamps (the column is empty or all null)")
    newest = newest.tz_localize("UTC") if newest.tzinfo is None else newest.tz_convert("UTC")
    reference = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    reference = (
        reference.tz_localize("UTC") if reference.tzinfo is None else reference.tz_convert("UTC")
    )
    age = reference - newest
    limit = pd.Timedelta(check.params["max_age"])
    passed = age <= limit
    message = f"newest {newest.isoformat()} is {age} old" + (
        "" if passed else f", more than {limit}"
    )
    return Outcome(
        passed=passed,
        observed={"newest": newest.isoformat(), "age_seconds": age.total_seconds()},
        message=message,
    )


def _custom(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np

    assert check.function is not None
    try:
        result = check.function(frame)
    except Exception as exc:
        raise _Unsupported(f"the function raised {type(exc).__name__}: {exc}") from None
    if isinstance(result, bool | np.bool_):
        return Outcome(
            passed=bool(result), message="passed" if result else "the function returned False"
        )
    try:
        passed = _as_bool_or_pass(result)
    except (TypeError, ValueError) as exc:
        raise _Unsupported(
            f"the function must return one boolean or one per row; it returned {type(result).__name__} ({exc})"
        ) from None
    if passed.shape != (len(frame),):
        raise _Unsupported(
            f"the function returned {passed.shape[0] if passed.ndim else 1} values for {len(frame)} rows."
        )
    outcome = _finish(~passed, "")
    outcome.message = f"{outcome.failed} rows fail" if outcome.failed else "all rows pass"
    return outcome


def _as_bool_or_pass(values: Any) -> np.ndarray:
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.Series | pd.api.extensions.ExtensionArray):
        flags: Any = pd.array(values, dtype="boolean")  # type: ignore[call-overload]
        return np.asarray(flags.fillna(True).to_numpy(dtype=bool))
    return np.asarray(values, dtype=bool)


def _expressions(checks: list[Check], frame: pd.DataFrame) -> list[Outcome]:
    """Every expression check in one DuckDB pass (each alone when one of them fails to compile)."""
    start = time.perf_counter()
    try:
        masks = _duckdb_masks([c.params["sql"] for c in checks], frame)
    except _Unsupported:
        if len(checks) == 1:
            raise_for = _duckdb_error(checks[0].params["sql"], frame)
            return [Outcome(error=raise_for, seconds=time.perf_counter() - start)]
        return [_expressions([check], frame)[0] for check in checks]
    seconds = (time.perf_counter() - start) / len(checks)
    outcomes = []
    for mask in masks:
        outcome = _finish(mask, "")
        outcome.message = (
            f"{outcome.failed} rows where the condition is false"
            if outcome.failed
            else "condition holds"
        )
        outcome.seconds = seconds
        outcomes.append(outcome)
    return outcomes


def _duckdb_masks(conditions: list[str], frame: pd.DataFrame) -> list[np.ndarray]:
    import duckdb
    import numpy as np

    columns = ", ".join(f"coalesce(NOT ({sql}), false) AS c{i}" for i, sql in enumerate(conditions))
    with duckdb.connect() as connection:
        connection.register("data", frame)
        try:
            result = connection.execute(f"SELECT {columns} FROM data").fetchnumpy()
        except duckdb.Error as exc:
            raise _Unsupported(str(exc).strip().splitlines()[0]) from None
    return [np.asarray(result[f"c{i}"], dtype=bool) for i in range(len(conditions))]


def _duckdb_error(sql: str, frame: pd.DataFrame) -> str:
    try:
        _duckdb_masks([sql], frame)
    except _Unsupported as exc:
        return f"DuckDB cannot evaluate {sql!r}: {exc}. Fix the SQL condition (columns are named as in the data)."
    return "the condition could not be evaluated"


def _plain(value: Any) -> Any:
    """A JSON-friendly Python value."""
    import numpy as np
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, pd.Timedelta):
        return str(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


_KERNELS = {
    "column": _column_present,
    "dtype": _dtype,
    "not_null": _not_null,
    "between": _between,
    "in_set": _in_set,
    "regex": _regex,
    "unique": _unique,
    "monotonic": _monotonic,
    "row_count": _row_count,
    "freshness": _freshness,
    "custom": _custom,
}
plain = _plain
