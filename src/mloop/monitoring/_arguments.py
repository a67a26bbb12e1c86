"""The arguments of :func:`mloop.monitoring.drift`, checked with messages that say the fix."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, NotFound, did_you_mean

if TYPE_CHECKING:
    from mloop.monitoring._sources import Source


def check_columns(columns: Any, ref: Source) -> list[str]:
    if columns is None:
        return [name for name, kind in ref.kinds.items() if kind in ("numeric", "categorical")]
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise InvalidInput(
            f"columns = {columns!r} must be a list of column names, e.g. ['temp', 'origin']."
        )
    for name in columns:
        if name not in ref.kinds:
            raise NotFound(
                f"column {name!r} is not in the reference."
                + did_you_mean(name, ref.kinds)
                + f" Reference columns: {', '.join(ref.kinds)}."
            )
    return list(dict.fromkeys(columns))


def per_column(values: Any, names: list[str], what: str) -> dict[str, Any]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidInput(
            f"{what} = {values!r} must map column names to values, e.g. {{'temp': ...}}."
        )
    for name in values:
        if name not in names:
            raise InvalidInput(
                f"{what} names column {name!r}, which is not compared."
                + did_you_mean(str(name), names)
            )
    if what == "thresholds":
        for name, value in values.items():
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise InvalidInput(
                    f"thresholds[{name!r}] = {value!r} must be a positive number "
                    "(a distance, or a p-value level such as 0.01)."
                )
    return dict(values)


def check_importance(importance: Any, names: list[str]) -> dict[str, float] | None:
    if importance is None:
        return None
    if hasattr(importance, "to_dict") and not isinstance(importance, Mapping):
        importance = importance.to_dict()
    if not isinstance(importance, Mapping):
        raise InvalidInput(
            f"importance must map column names to weights (a dict or pandas Series), "
            f"not a {type(importance).__name__}."
        )
    weights: dict[str, float] = {}
    for name, value in importance.items():
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise InvalidInput(f"importance[{name!r}] = {value!r} must be a non-negative number.")
        weights[str(name)] = float(value)
    if not any(weights.get(name, 0.0) > 0 for name in names):
        raise InvalidInput(
            "importance gives no positive weight to any compared column "
            f"({', '.join(names)}); check the column names."
        )
    return {name: weights.get(name, 0.0) for name in names}
