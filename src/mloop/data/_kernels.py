"""The value checks' kernels: one vectorised pass per check over the column's own buffer.

A kernel returns an :class:`Outcome` with the positions of the failing rows. It reads
numbers and dates with numpy, strings with Arrow compute (zero-copy for pandas'
Arrow-backed strings), categoricals through their codes, and finds repeated keys with a
sort; never a Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.data._types import column_type, family
from mloop.data.profile import numeric_values

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.data.checks import Check


@dataclass
class Outcome:
    """What a kernel found. ``positions`` of failing rows; ``error`` means it could not run."""

    passed: bool | None = (
        None  # for table-level checks; row checks derive it from failed and mostly
    )
    positions: np.ndarray | None = None
    failed: int = 0
    observed: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    error: str | None = None
    seconds: float = 0.0


class Unsupported(Exception):
    """The check cannot run on this column (wrong type, bad pattern...)."""


def finish(mask: np.ndarray | None, message: str, **observed: Any) -> Outcome:
    import numpy as np

    if mask is None:
        return Outcome(positions=None, failed=0, message=message, observed=observed)
    # one pass gives both the count and the rows (in the kernel's thread, not the caller's)
    positions = np.flatnonzero(mask)
    failed = int(positions.size)
    return Outcome(
        positions=positions if failed else None, failed=failed, message=message, observed=observed
    )


def numbers(series: pd.Series) -> np.ndarray | None:
    """The column as a numpy array for comparisons, or None when pandas must compare."""
    import numpy as np

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return series.to_numpy(copy=False)
    inner = getattr(dtype, "numpy_dtype", None)  # masked Int64 / Float64
    if inner is not None and inner.kind in "iuf":
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def as_bool(values: Any) -> np.ndarray:
    """A pandas/numpy boolean result as a numpy bool array, missing as False."""
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.Series | pd.api.extensions.ExtensionArray):
        flags: Any = pd.array(values, dtype="boolean")  # type: ignore[call-overload]
        values = flags.fillna(False).to_numpy(dtype=bool)
    return np.asarray(values, dtype=bool)


def nulls(series: pd.Series) -> np.ndarray:
    import numpy as np

    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            return np.isnan(series.to_numpy(copy=False))
        if dtype.kind in "iub":
            return np.zeros(len(series), dtype=bool)
    return as_bool(series.isna())


def _not_null(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    mask = nulls(frame[check.columns[0]])
    outcome = finish(mask, "")
    outcome.message = f"{outcome.failed} missing values" if outcome.failed else "no missing values"
    return outcome


def _between(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np
    import pandas as pd

    series = frame[check.columns[0]]
    low, high = check.params.get("min"), check.params.get("max")
    inclusive = check.params.get("inclusive", True)
    values: Any = numbers(series)
    kind = family(column_type(series))
    numeric_bounds = all(b is None or isinstance(b, int | float) for b in (low, high))
    if values is None:
        if kind in ("timestamp", "date"):
            values = series
            low, high = (_timestamp(b, series) for b in (low, high))
        elif kind in ("string", "category") and not numeric_bounds:
            values = series
        else:
            raise Unsupported(
                f"between needs a numeric, date/time or string column; {check.columns[0]!r} is "
                f"{column_type(series)}. Cast it or use another check."
            )
    elif not numeric_bounds:
        raise Unsupported(
            f"bounds {low!r}..{high!r} are not numbers but {check.columns[0]!r} is numeric."
        )
    fail: Any = None  # one comparison per bound: no zeroed array to OR into first
    with np.errstate(invalid="ignore"):
        if low is not None:
            below = values <= low if inclusive in (False, "max") else values < low
            fail = as_bool(below)
        if high is not None:
            above = as_bool(values >= high if inclusive in (False, "min") else values > high)
            fail = above if fail is None else fail | above
    if fail is None:
        fail = np.zeros(len(series), dtype=bool)
    outcome = finish(fail, "")
    if outcome.failed:
        where: Any = outcome.positions
        bad = series.iloc[where] if isinstance(values, pd.Series) else values[where]
        outcome.observed = {"min_failing": plain(bad.min()), "max_failing": plain(bad.max())}
        outcome.message = (
            f"{outcome.failed} values outside [{plain(low)}, {plain(high)}] "
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
    values = numbers(series)
    if isinstance(series.dtype, pd.CategoricalDtype):
        known = np.asarray(series.cat.categories.isin(allowed), dtype=bool)
        codes = series.cat.codes.to_numpy()
        fail = (codes >= 0) & ~np.append(known, True)[codes]
    elif values is not None:
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in allowed):
            raise Unsupported(
                f"{check.columns[0]!r} is numeric but the allowed values {allowed[:5]} are not all numbers."
            )
        fail = ~np.isin(values, np.asarray(allowed)) & ~np.isnan(
            values.astype(np.float64, copy=False)
        )
    elif family(column_type(series)) == "string":
        array = _arrow_strings(series)
        if pa.types.is_null(array.type):  # nothing but nulls
            return finish(None, "all values null")
        # null is in the set, so missing values pass in the same single lookup pass
        value_set = pa.array([str(v) for v in allowed] + [None], type=array.type)
        try:
            inside = pc.is_in(array, value_set=value_set, skip_nulls=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise Unsupported(
                f"cannot compare {check.columns[0]!r} with the allowed values: {exc}"
            ) from None
        fail = np.logical_not(inside.to_numpy(zero_copy_only=False))
    else:
        fail = ~as_bool(series.isin(allowed)) & ~nulls(series)
    outcome = finish(fail, "")
    if outcome.failed:
        where: Any = outcome.positions
        unexpected = series.iloc[where].value_counts().head(5)
        outcome.observed = {"unexpected": {str(k): int(v) for k, v in unexpected.items()}}
        shown = ", ".join(f"{k!r} ({v})" for k, v in outcome.observed["unexpected"].items())
        outcome.message = f"{outcome.failed} values not in the allowed set, e.g. {shown}"
    else:
        outcome.message = "all values allowed"
    return outcome


def _arrow_strings(series: pd.Series) -> Any:
    """The column as Arrow: pandas' own Arrow buffers when it has them (no copy)."""
    import pyarrow as pa

    inner = getattr(series.array, "_pa_array", None)  # ArrowStringArray, ArrowExtensionArray
    if isinstance(inner, pa.ChunkedArray) and not pa.types.is_dictionary(inner.type):
        return inner
    return pa.array(series, from_pandas=True)


def _regex(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import pyarrow as pa
    import pyarrow.compute as pc

    series = frame[check.columns[0]]
    if family(column_type(series)) not in ("string", "category"):
        raise Unsupported(
            f"regex needs a string column; {check.columns[0]!r} is {column_type(series)}."
        )
    array = pa.array(series, from_pandas=True)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    try:
        matched = pc.match_substring_regex(array, f"^(?:{check.params['pattern']})$")
    except pa.ArrowInvalid as exc:
        raise Unsupported(f"pattern {check.params['pattern']!r} is not valid RE2: {exc}") from None
    fail = ~as_bool(matched.to_numpy(zero_copy_only=False)) & array.is_valid().to_numpy(
        zero_copy_only=False
    )
    outcome = finish(fail, "")
    outcome.message = (
        f"{outcome.failed} values do not match" if outcome.failed else "all values match"
    )
    return outcome


def _unique(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np

    columns = list(check.columns)
    fail = values = None
    if len(columns) == 1:
        values = numbers(frame[columns[0]])
        if values is not None:
            fail = _repeated_numbers(values)
    if fail is None:
        key = frame[columns]
        null_key = np.zeros(len(frame), dtype=bool)
        for name in columns:
            null_key |= nulls(frame[name])
        fail = key.duplicated(keep=False).to_numpy() & ~null_key
    outcome = finish(fail, "")
    if outcome.failed:
        if values is not None and len(columns) == 1:
            keys = len(np.unique(values[fail]))
        else:
            keys = len(frame.loc[fail, columns].drop_duplicates())
        outcome.observed = {"duplicated_keys": keys}
        outcome.message = f"{outcome.failed} rows share {keys} duplicated keys"
    else:
        outcome.message = "all keys unique"
    return outcome


def _repeated_numbers(values: np.ndarray) -> np.ndarray:
    """Rows whose number appears more than once (NaN never repeats).

    Integers spanning at most a few times the row count are counted with ``bincount``
    (two linear passes); other numbers are sorted, and only when repeats exist the
    repeated values are looked up (decisions 0002 and 0132).
    """
    import numpy as np

    if values.dtype.kind in "iu" and values.size:
        low, high = values.min(), values.max()
        if int(high) - int(low) < max(4 * values.size, 1 << 16):
            offsets = (values - low).astype(np.intp, copy=False)
            return np.bincount(offsets)[offsets] > 1
    ordered = np.sort(values)
    repeats = ordered[1:] == ordered[:-1]
    if not repeats.any():
        return np.zeros(values.shape[0], dtype=bool)
    return np.isin(values, np.unique(ordered[1:][repeats]))


def _monotonic(check: Check, frame: pd.DataFrame, now: Any) -> Outcome:
    import numpy as np

    series = frame[check.columns[0]]
    values = numbers(series)
    if values is None:
        if family(column_type(series)) not in ("timestamp", "date", "duration"):
            raise Unsupported(
                f"monotonic needs a numeric or date/time column; {check.columns[0]!r} is {column_type(series)}."
            )

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
    outcome = finish(fail, "")
    outcome.message = (
        f"{outcome.failed} rows break the {'strict ' if check.params['strict'] else ''}{direction}"
        if outcome.failed
        else f"values {direction}"
    )
    return outcome


def plain(value: Any) -> Any:
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


VALUE_KERNELS = {
    "not_null": _not_null,
    "between": _between,
    "in_set": _in_set,
    "regex": _regex,
    "unique": _unique,
    "monotonic": _monotonic,
}
