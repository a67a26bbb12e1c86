"""Values made JSON-ready: numpy scalars as Python numbers, NaN and infinities as None."""

from __future__ import annotations

import math
from typing import Any


def plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and NaN as None (valid JSON)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value
