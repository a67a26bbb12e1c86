"""Ground-truth feedback: labels of logged requests, upserted by request id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.store.predictions._times import to_ms as _to_ms
from mloop.store.predictions._times import ts_ms as _ts_ms
from mloop.store.predictions.matching import GRACE_SECONDS, STATES, label_states
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
    import sys

    import numpy as np

    if isinstance(label, (bool, np.bool_)):
        return float(label), None
    if isinstance(label, (int, float, np.integer, np.floating)):
        if isinstance(label, int) and abs(label) > sys.float_info.max:
            raise InvalidInput(
                f"feedback for {model_name!r}, request {request_id!r}: the label, an integer "
                f"of {len(str(abs(label)))} digits, has no float value; send the observed value."
            )
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


def list_feedback(
    model_name: str,
    state: str | None = None,
    request_ids: Sequence[str] | None = None,
    limit: int | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> list[dict[str, Any]]:
    """Stored labels of ``model_name``, newest first, each with its matching ``state``.

    ``state``: only ``matched``, ``pending`` or ``unmatched`` labels (see
    :mod:`mloop.store.predictions.matching`).

    >>> list_feedback("delays", state="unmatched")
    [{'request_id': 'does-not-exist', 'label': 'banana', 'ts': ..., 'state': 'unmatched'}]
    """
    from mloop.store import get_store

    if state is not None and state not in STATES:
        raise InvalidInput(
            f"feedback state {state!r} is unknown; use one of {', '.join(STATES)}."
            + did_you_mean(state, STATES)
        )
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit {limit} must be at least 1.")
    query = select(
        PredictionFeedback.request_id,
        PredictionFeedback.label_number,
        PredictionFeedback.label_text,
        PredictionFeedback.ts,
        PredictionFeedback.updated_at,
    ).where(PredictionFeedback.model_name == str(model_name))
    if request_ids is not None:
        query = query.where(PredictionFeedback.request_id.in_([str(r) for r in request_ids]))
    query = query.order_by(PredictionFeedback.updated_at.desc(), PredictionFeedback.request_id)
    if limit is not None and state is None:
        query = query.limit(limit)
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    states = label_states(model_name, [(r[0], int(r[4])) for r in rows], grace_seconds)
    out = [
        {
            "request_id": r[0],
            "label": r[2] if r[2] is not None else _plain_number(r[1]),
            "ts": int(r[3]),
            "updated_at": int(r[4]),
            "state": s,
        }
        for r, s in zip(rows, states, strict=True)
        if state is None or s == state
    ]
    return out[:limit] if limit is not None else out


def delete_feedback(model_name: str, request_ids: Sequence[str]) -> int:
    """Delete the labels of ``request_ids``; the number deleted (absent ids are skipped).

    >>> delete_feedback("delays", ["does-not-exist"])
    1
    """
    from sqlalchemy import delete

    from mloop.store import get_store

    ids = [str(r) for r in request_ids]
    if not ids:
        return 0
    statement = delete(PredictionFeedback).where(
        PredictionFeedback.model_name == str(model_name),
        PredictionFeedback.request_id.in_(ids),
    )
    store = get_store()
    deleted: int = store.transaction(lambda conn: conn.execute(statement).rowcount)
    return deleted


def correct_feedback(model_name: str, request_id: str, label: Any) -> None:
    """Replace the stored label of ``request_id`` (it must exist: a correction, not a new label).

    Raises:
        NotFound: no label is stored for ``request_id`` (with the nearest ids).
        InvalidInput: ``label`` is not a number, boolean or non-empty string.
    """
    from sqlalchemy import update

    from mloop.store import get_store

    number, text = _label_parts(model_name, request_id, label)
    statement = (
        update(PredictionFeedback)
        .where(
            PredictionFeedback.model_name == str(model_name),
            PredictionFeedback.request_id == str(request_id),
        )
        .values(label_number=number, label_text=text, updated_at=now_ms())
    )
    store = get_store()
    changed: int = store.transaction(lambda conn: conn.execute(statement).rowcount)
    if not changed:
        with store.read() as conn:
            known = list(
                conn.execute(
                    select(PredictionFeedback.request_id)
                    .where(PredictionFeedback.model_name == str(model_name))
                    .limit(10_000)
                ).scalars()
            )
        raise NotFound(
            f"no label of model {model_name!r} is stored for request {request_id!r}."
            + did_you_mean(str(request_id), known)
            + " `mloop feedback list` shows the stored labels."
        )


def _plain_number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)
