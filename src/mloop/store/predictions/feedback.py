"""Ground-truth feedback: labels of logged requests, upserted by request id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.store.predictions._times import to_ms as _to_ms
from mloop.store.predictions._times import ts_ms as _ts_ms
from mloop.store.schema.predictions import PredictionFeedback

if TYPE_CHECKING:
    import pandas as pd


def record_feedback(
    model_name: str,
    request_ids: Sequence[str] | str,
    labels: Any,
    ts: Any = None,
) -> int:
    """Record the ground truth of logged requests (a later label replaces an earlier one).

    >>> record_feedback("delays", ["r1", "r2"], [1, 0])
    2
    """
    import numpy as np

    if isinstance(request_ids, str):
        request_ids, labels = [request_ids], [labels]
    ids = [str(r) for r in request_ids]
    values = list(labels) if not np.isscalar(labels) else [labels]
    if len(ids) != len(values):
        raise InvalidInput(
            f"feedback for {model_name!r}: {len(ids)} request ids but {len(values)} labels; "
            "give one label per request id."
        )
    bad = next((r for r in ids if not r.strip() or len(r) > 128), None)
    if bad is not None:
        raise InvalidInput(
            f"feedback for {model_name!r}: request id {bad!r} is empty or longer than 128 "
            "characters; use the request id the prediction answered with."
        )
    if not ids:
        return 0
    when = _ts_ms(now_ms() if ts is None else ts, len(ids))
    now = now_ms()
    rows = []
    for request_id, label, at in zip(ids, values, when, strict=True):
        number, text = _label_parts(model_name, request_id, label)
        rows.append(
            {
                "model_name": str(model_name),
                "request_id": request_id,
                "label_number": number,
                "label_text": text,
                "ts": int(at),
                "updated_at": now,
            }
        )
    unique = list({row["request_id"]: row for row in rows}.values())  # last label wins
    from mloop.store import get_store

    store = get_store()
    store.transaction(
        lambda conn: store.upsert(
            conn,
            PredictionFeedback.__table__,
            unique,
            keys=["model_name", "request_id"],
            update=["label_number", "label_text", "ts", "updated_at"],
        )
    )
    return len(unique)


def _label_parts(model_name: str, request_id: str, label: Any) -> tuple[float | None, str | None]:
    import math

    import numpy as np

    if isinstance(label, (bool, np.bool_)):
        return float(label), None
    if isinstance(label, (int, float, np.integer, np.floating)):
        if math.isnan(float(label)):
            raise InvalidInput(
                f"feedback for {model_name!r}, request {request_id!r}: the label is NaN; "
                "send the observed value."
            )
        return float(label), None
    if isinstance(label, str) and label:
        return None, label
    raise InvalidInput(
        f"feedback for {model_name!r}, request {request_id!r}: label {label!r} is not a "
        "number, boolean or non-empty string."
    )


def read_feedback(model_name: str, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Labels of ``model_name`` observed in ``[start, end)``: ``request_id``, ``label``, ``ts``.

    Labels are numbers (integers when all are whole) or strings when any label is text.

    >>> read_feedback("delays").head(1).to_dict("records")
    [{'request_id': 'r1', 'label': 1, 'ts': Timestamp('2026-01-02 10:00:00+0000', tz='UTC')}]
    """
    import numpy as np
    import pandas as pd

    from mloop.store import get_store

    query = select(
        PredictionFeedback.request_id,
        PredictionFeedback.label_number,
        PredictionFeedback.label_text,
        PredictionFeedback.ts,
    ).where(PredictionFeedback.model_name == str(model_name))
    if start is not None:
        query = query.where(PredictionFeedback.ts >= _to_ms(start))
    if end is not None:
        query = query.where(PredictionFeedback.ts < _to_ms(end))
    with get_store().read() as conn:
        rows = conn.execute(query.order_by(PredictionFeedback.ts)).all()
    ids = [r[0] for r in rows]
    numbers = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype="float64")
    texts = [r[2] for r in rows]
    label: Any
    if any(t is not None for t in texts):
        label = pd.Series(
            [t if t is not None else _number_text(n) for t, n in zip(texts, numbers, strict=True)],
            dtype="object",
        )
    elif len(numbers) and np.all(numbers == np.round(numbers)):
        label = pd.Series(numbers.astype("int64"))
    else:
        label = pd.Series(numbers, dtype="float64")
    ts = pd.to_datetime(pd.Series([r[3] for r in rows], dtype="int64"), unit="ms", utc=True)
    return pd.DataFrame(
        {
            "request_id": pd.Series(ids, dtype="string"),
            "label": label,
            "ts": ts.astype("datetime64[ms, UTC]"),
        }
    )


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
