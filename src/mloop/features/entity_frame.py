"""The entity frame of a training set: checked, and its timestamps made UTC microseconds.

Rules: every join key of every requested view is a column; the timestamp column is
``timestamp=`` or else ``event_timestamp`` or else the frame's only datetime column; its
values are all time-zone-aware (any zones, compared as instants) or all naive, and the
views' timestamps must be the same kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, did_you_mean

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DEFAULT_TIMESTAMP = "event_timestamp"


@dataclass(frozen=True)
class EntityFrame:
    table: pa.Table  # __row, the keys, __ts
    timestamp: str | None
    aware: bool | None
    key_kinds: dict[str, str]  # "number", "string", "bool" or the dtype name


def prepare(df: Any, keys: Sequence[str], timestamp: str | None, need_time: bool) -> EntityFrame:
    """Check ``df`` and build the Arrow table the point-in-time join reads."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if not isinstance(df, pd.DataFrame):
        raise InvalidInput(f"the entity frame must be a pandas DataFrame, not {type(df).__name__}.")
    columns = [str(c) for c in df.columns]
    for key in keys:
        if key not in columns:
            raise InvalidInput(
                f"the entity frame has no join key column '{key}'."
                + did_you_mean(key, columns)
                + f" Its columns are {columns}; add '{key}' (one value per row)."
            )
    arrays: dict[str, Any] = {"__row": pa.array(np.arange(len(df), dtype=np.int64))}
    kinds: dict[str, str] = {}
    for key in dict.fromkeys(keys):
        arrays[key] = pa.Array.from_pandas(df[key])
        kinds[key] = kind_of(df[key])
    aware = None
    if need_time:
        timestamp = timestamp or _infer_timestamp(df)
        if timestamp not in columns:
            raise InvalidInput(
                f"the entity frame has no timestamp column '{timestamp}'."
                + did_you_mean(timestamp, columns)
                + f" Its columns are {columns}; pass timestamp='<column>'."
            )
        values, aware = utc_micros(df[timestamp], f"entity frame column '{timestamp}'")
        arrays["__ts"] = pa.array(values)
    return EntityFrame(pa.table(arrays), timestamp if need_time else None, aware, kinds)


def kind_of(series: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "number"
    if pd.api.types.is_string_dtype(series.dtype):
        return "string"
    return str(series.dtype)


def _infer_timestamp(df: pd.DataFrame) -> str:
    import pandas as pd

    if DEFAULT_TIMESTAMP in df.columns:
        return DEFAULT_TIMESTAMP
    found = [str(c) for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c].dtype)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InvalidInput(
            f"the entity frame has no timestamp column (columns: {[str(c) for c in df.columns]}); "
            f"add a datetime column '{DEFAULT_TIMESTAMP}' or pass timestamp='<column>'."
        )
    raise InvalidInput(
        f"the entity frame has several datetime columns {found}; pass timestamp='<column>' to say "
        "which one is the time of each row."
    )


def utc_micros(series: pd.Series, what: str) -> tuple[Any, bool]:
    """``series`` as naive UTC ``datetime64[us]`` values, and whether it was time-zone-aware."""
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None).astype(
            "datetime64[us]"
        ).to_numpy(), True
    if pd.api.types.is_datetime64_dtype(dtype):
        return series.astype("datetime64[us]").to_numpy(), False
    if pd.api.types.is_object_dtype(dtype):
        values = series.dropna()
        if len(values) and all(hasattr(v, "tzinfo") and hasattr(v, "year") for v in values):
            zones = {v.tzinfo is not None for v in values}
            if len(zones) > 1:
                raise InvalidInput(
                    f"{what} mixes naive and time-zone-aware timestamps; make them all aware "
                    "(pd.to_datetime(col, utc=True)) or all naive."
                )
            converted = (
                pd.to_datetime(series, utc=True) if zones == {True} else pd.to_datetime(series)
            )
            return utc_micros(converted, what)
    raise InvalidInput(
        f"{what} holds {dtype} values, not timestamps; convert it with pd.to_datetime(...) "
        "(utc=True for strings with an offset such as '2013-01-01T10:00:00Z')."
    )
