"""Time conversions of the prediction log: everything becomes epoch milliseconds (UTC)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from mloop.core.clock import datetime_to_ms
from mloop.core.errors import InvalidInput


def monotonic() -> float:
    return time.monotonic()


def ts_ms(ts: Any, rows: int) -> Any:
    """Times as an int64 array of epoch milliseconds, one per row.

    Raises:
        InvalidInput: ``ts`` is not a time, a list of times (one per row) or epoch
            milliseconds that fit 64 bits.
    """
    try:
        return _ts_ms(ts, rows)
    except (ValueError, TypeError, OverflowError) as exc:
        shown = repr(ts) if len(repr(ts)) < 60 else repr(ts)[:57] + "..."
        raise InvalidInput(
            f"ts {shown} is not a time ({exc}); give a datetime, an ISO string such as "
            "'2026-01-31T12:00' or epoch milliseconds, or a list of them, one per row."
        ) from None


def _ts_ms(ts: Any, rows: int) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(ts, (int, np.integer)):
        return np.full(rows, int(ts), dtype="int64")
    if isinstance(ts, (datetime, str, pd.Timestamp)):
        return np.full(rows, to_ms(ts), dtype="int64")
    values = pd.to_datetime(pd.Series(ts), utc=True) if not is_int_array(ts) else None
    if values is None:
        array = np.asarray(ts, dtype="int64")
    else:
        array = (values.astype("datetime64[ms, UTC]").astype("int64")).to_numpy()
    if len(array) != rows:
        raise InvalidInput(f"ts has {len(array)} values for {rows} rows; give one per row.")
    return array


def is_int_array(values: Any) -> bool:
    import numpy as np

    return bool(np.asarray(values).dtype.kind in "iu")


def to_ms(value: Any) -> int:
    import pandas as pd

    if isinstance(value, bool):
        raise InvalidInput(f"time {value!r} is not a time; give a datetime or ISO string.")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return datetime_to_ms(value)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InvalidInput(
            f"time {value!r} is not a time; give a datetime, an ISO string such as "
            "'2026-01-31T12:00' or epoch milliseconds."
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1_000_000)


def ms_to_utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
