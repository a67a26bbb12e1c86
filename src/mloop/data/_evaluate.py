"""Evaluating a suite's checks on a DataFrame: value kernels, table checks, SQL expressions.

Value checks run their kernel (:mod:`mloop.data._kernels`); schema and table checks
(``column``, ``dtype``, ``row_count``, ``freshness``) look at the frame as a whole;
``expression`` checks run together in one DuckDB query over the frame (no copy); custom
functions run alone, on the caller's thread.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from mloop.core.errors import did_you_mean
from mloop.data._kernels import VALUE_KERNELS, Outcome, Unsupported, finish
from mloop.data._types import column_type, family, matches

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.data.checks import Check


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
    if len(frame) >= PARALLEL_ROWS and len(shared) > 1 and _WORKERS > 1:
        shared_outcomes = _pool().map(lambda i: _run(checks[i], frame, now), shared)
        for i, outcome in zip(shared, shared_outcomes, strict=True):
            outcomes[i] = outcome
    for i in pending:
        if outcomes[i] is None:
            outcomes[i] = _run(checks[i], frame, now)
    return [o for o in outcomes if o is not None]


_WORKERS = min(2, os.cpu_count() or 1)
_shared_pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool)
_pool_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The kernels' threads, started once per process (starting threads per call cost more
    than a fast check on a loaded machine). A forked child starts its own: the parent's
    threads do not exist there."""
    global _shared_pool
    with _pool_lock:
        if _shared_pool is None or _shared_pool[0] != os.getpid():
            pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="mloop-checks")
            _shared_pool = (os.getpid(), pool)
        return _shared_pool[1]


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
        except Unsupported as exc:
            outcome = Outcome(error=str(exc))
    outcome.seconds = time.perf_counter() - start
    return outcome


def _missing(name: str, frame: pd.DataFrame) -> Outcome:
    columns = [str(c) for c in frame.columns]
    shown = ", ".join(columns[:20]) + (" ..." if len(columns) > 20 else "")
    return Outcome(
        error=f"column {name!r} is not in the data."
        + did_you_mean(name, columns)
        + f" Columns: {shown}. Fix the column name in the check or add the column."
    )


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
            raise Unsupported(
                f"freshness needs timestamps; {check.columns[0]!r} holds text that is not a date/time."
            ) from None
    elif kind not in ("timestamp", "date"):
        raise Unsupported(
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
        raise Unsupported(f"the function raised {type(exc).__name__}: {exc}") from None
    if isinstance(result, bool | np.bool_):
        return Outcome(
            passed=bool(result), message="passed" if result else "the function returned False"
        )
    try:
        passed = _as_bool_or_pass(result)
    except (TypeError, ValueError) as exc:
        raise Unsupported(
            f"the function must return one boolean or one per row; it returned {type(result).__name__} ({exc})"
        ) from None
    if passed.shape != (len(frame),):
        raise Unsupported(
            f"the function returned {passed.shape[0] if passed.ndim else 1} values for {len(frame)} rows."
        )
    outcome = finish(~passed, "")
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
    except Unsupported:
        if len(checks) == 1:
            raise_for = _duckdb_error(checks[0].params["sql"], frame)
            return [Outcome(error=raise_for, seconds=time.perf_counter() - start)]
        return [_expressions([check], frame)[0] for check in checks]
    seconds = (time.perf_counter() - start) / len(checks)
    outcomes = []
    for mask in masks:
        outcome = finish(mask, "")
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
    # the condition sees the frame only: no files, no network, no extensions
    with duckdb.connect(config={"enable_external_access": False}) as connection:
        connection.register("data", frame)
        try:
            result = connection.execute(f"SELECT {columns} FROM data").fetchnumpy()
        except duckdb.Error as exc:
            raise Unsupported(str(exc).strip().splitlines()[0]) from None
    return [np.asarray(result[f"c{i}"], dtype=bool) for i in range(len(conditions))]


def _duckdb_error(sql: str, frame: pd.DataFrame) -> str:
    try:
        _duckdb_masks([sql], frame)
    except Unsupported as exc:
        return f"DuckDB cannot evaluate {sql!r}: {exc}. Fix the SQL condition (columns are named as in the data)."
    return "the condition could not be evaluated"


_KERNELS = {
    **VALUE_KERNELS,
    "column": _column_present,
    "dtype": _dtype,
    "row_count": _row_count,
    "freshness": _freshness,
    "custom": _custom,
}
