"""Stored labels checked against the model's label domain before a window uses them.

Feedback arrives from outside (``/v1/feedback``, ``record_feedback``): a label such as
``"banana"``, or ``7`` for a binary model, must not break every later window nor silently
change a metric. Such a label is treated as not arrived and counted with its reason
(``Window.skipped_labels``); the row keeps its prediction and its drift.

>>> clean_labels(frame, "classification", [0, 1])
(frame with label 7 -> NaN, {"label is not a class of the model (0, 1)": 1})
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mloop.monitoring._frames import LABEL

if TYPE_CHECKING:
    import pandas as pd


def _key(value: Any) -> Any:
    """One key for the spellings of a label: ``1``, ``1.0``, ``"1"`` and ``True`` are one class."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return 1.0 if text.lower() == "true" else 0.0
        try:
            number = float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def clean_labels(
    frame: pd.DataFrame, task: str, classes: list[Any] | None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """``frame`` with labels outside the domain set to missing, and the count per reason.

    Classification: a label must be one of ``classes`` (the reference's labels; any
    spelling of the same value counts); it is given back as that class. Without known
    classes, only text labels next to numeric predictions are refused. Regression: a
    label must be a finite number.
    """
    import numpy as np
    import pandas as pd

    if LABEL not in frame.columns or frame.empty:
        return frame, {}
    raw = frame[LABEL]
    present = raw.notna().to_numpy()
    if not present.any():
        return frame, {}
    if task == "regression":
        numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = present & ~np.isfinite(numbers)
        cleaned: Any = np.where(bad, np.nan, numbers)
        reason = "label is not a finite number"
    elif classes:
        lookup = {_key(c): c for c in classes}
        found = [lookup.get(_key(v)) if ok else None for v, ok in zip(raw, present, strict=True)]
        bad = present & np.array([v is None for v in found])
        if all(isinstance(c, int | float | np.number) for c in classes):
            cleaned = np.array([np.nan if v is None else float(v) for v in found])
        else:
            cleaned = pd.Series([np.nan if v is None else v for v in found], dtype=object)
            cleaned = cleaned.to_numpy()
        shown = ", ".join(repr(c) for c in classes[:10])
        reason = f"label is not a class of the model ({shown})"
    else:
        prediction = frame.get("prediction")
        if prediction is None or not pd.api.types.is_numeric_dtype(prediction):
            return frame, {}
        numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = present & np.isnan(numbers)
        cleaned = numbers
        reason = "label is text but the model predicts numbers"
    out = frame.copy()
    out[LABEL] = cleaned
    count = int(bad.sum())
    return out, ({reason: count} if count else {})
