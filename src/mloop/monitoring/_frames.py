"""Window rows in one shape: prediction-log columns renamed, labels joined by request id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.core.clock import datetime_to_ms
from mloop.core.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

META = ("request_id", "ts", "model_name", "model_version", "latency_ms")
LABEL = "label"


def window_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Prediction-log rows with ``input.``/``feature.``/``output.`` prefixes dropped.

    A name that two prefixes share keeps its prefix (the model's input wins the bare name).
    Plain frames (feature columns, ``prediction``, maybe ``label``) pass unchanged.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(
            f"window rows must be a pandas DataFrame (read_predictions() gives one), not a "
            f"{type(frame).__name__}."
        )
    names: dict[str, str] = {}
    taken = {str(c) for c in frame.columns if "." not in str(c)}
    for prefix in ("input.", "feature.", "output."):
        for column in frame.columns:
            text = str(column)
            if text.startswith(prefix):
                bare = text[len(prefix) :]
                if bare in taken:
                    continue
                names[text] = bare
                taken.add(bare)
    return frame.rename(columns=names) if names else frame


def join_labels(frame: pd.DataFrame, labels: Any) -> pd.DataFrame:
    """``frame`` with a ``label`` column from ``labels`` (request_id + label), NaN when unknown."""
    import pandas as pd

    if isinstance(labels, pd.Series):
        if len(labels) != len(frame):
            raise InvalidInput(
                f"labels has {len(labels)} values for {len(frame)} rows; give one per row or a "
                "frame of request_id and label."
            )
        out = frame.copy()
        out[LABEL] = labels.to_numpy()
        return out
    if not isinstance(labels, pd.DataFrame) or not {"request_id", LABEL} <= set(labels.columns):
        raise InvalidInput(
            "labels must be a DataFrame with request_id and label columns (read_feedback() gives "
            "one) or a Series aligned with the rows."
        )
    if "request_id" not in frame.columns:
        raise InvalidInput(
            "labels are joined by request_id, but the window rows have no request_id column."
        )
    known = labels[["request_id", LABEL]].drop_duplicates("request_id", keep="last")
    known = known.assign(request_id=known["request_id"].astype("string"))
    base = frame.drop(columns=[LABEL]) if LABEL in frame.columns else frame
    keys = base["request_id"].astype("string")
    mapping = pd.Series(known[LABEL].to_numpy(), index=known["request_id"].to_numpy())
    out = base.copy()
    out[LABEL] = keys.map(mapping).to_numpy()
    return out


def version_of(frame: pd.DataFrame) -> list[str]:
    if "model_version" not in frame.columns:
        return []
    return sorted({str(v) for v in frame["model_version"].dropna().unique()})


def time_bounds(frame: pd.DataFrame) -> tuple[int, int] | None:
    """``[first ts, last ts + 1 ms)`` of the rows in epoch milliseconds, if they have ``ts``."""
    import pandas as pd

    if "ts" not in frame.columns or frame.empty:
        return None
    ts = pd.to_datetime(frame["ts"], utc=True)
    first, last = ts.min(), ts.max()
    return int(first.value // 1_000_000), int(last.value // 1_000_000) + 1


def by_version(log: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if log.empty:
        return []
    return [(str(v), part) for v, part in log.groupby("model_version", sort=True)]


def to_ms(value: Any) -> int:
    """A time as epoch milliseconds (datetimes, ISO strings, pandas Timestamps, ints)."""
    import pandas as pd

    if isinstance(value, bool):
        raise InvalidInput(f"{value!r} is not a time.")
    if isinstance(value, int):
        return value
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{value!r} is not a time; give a datetime, an ISO string such as '2026-01-31' or "
            "epoch milliseconds."
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return datetime_to_ms(stamp.to_pydatetime())
