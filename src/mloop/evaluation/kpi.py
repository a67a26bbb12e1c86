"""Business KPIs: user functions of the predictions and the data, logged like metrics.

A KPI function takes ``(y_true, y_pred, data)`` — the true values, the predictions (labels
at the threshold for a classifier) and the evaluation rows, all sharing one index — and
returns a number. It may also take ``y_score`` (the positive-class probability)::

    def missed_delay_cost(y_true, y_pred, data):
        return float(((y_true == 1) & (y_pred == 0)).sum() * 75.0)

    mloop.evaluate(model, df, target="late",
                   kpis={"missed_delay_cost": KPI(missed_delay_cost, greater_is_better=False)})
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.evaluation.metrics import GREATER_IS_BETTER

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KPI", "as_kpis"]


@dataclass(frozen=True)
class KPI:
    """A KPI function and whether higher is better (a cost: ``greater_is_better=False``).

    >>> KPI(lambda y_true, y_pred, data: float((y_true != y_pred).sum()), greater_is_better=False)
    KPI(...)
    """

    fn: Callable[..., Any]
    greater_is_better: bool = True

    def __repr__(self) -> str:
        return "KPI(...)"

    @property
    def wants_score(self) -> bool:
        try:
            return "y_score" in inspect.signature(self.fn).parameters
        except (TypeError, ValueError):
            return False

    def __call__(
        self,
        name: str,
        y_true: pd.Series,
        y_pred: pd.Series,
        data: pd.DataFrame,
        y_score: pd.Series | None,
    ) -> float:
        kwargs = {"y_score": y_score} if self.wants_score else {}
        try:
            value = self.fn(y_true, y_pred, data, **kwargs)
        except Exception as exc:
            raise InvalidInput(
                f"KPI {name!r} raised {type(exc).__name__}: {exc}. A KPI is called as "
                "fn(y_true, y_pred, data) (plus y_score= when it takes one) and returns a number."
            ) from exc
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"KPI {name!r} returned {value!r} ({type(value).__name__}); return a number."
            ) from None
        if math.isinf(number):
            raise InvalidInput(f"KPI {name!r} returned {number}; return a finite number.")
        return number


def as_kpis(kpis: Mapping[str, Any] | None) -> dict[str, KPI]:
    """Normalise ``{"name": fn | KPI}`` to KPIs, checking the names."""
    if kpis is None:
        return {}
    if not isinstance(kpis, Mapping):
        raise InvalidInput(
            f"kpis is a {type(kpis).__name__}; pass a dict such as {{'missed_delay_cost': fn}}."
        )
    found: dict[str, KPI] = {}
    for name, value in kpis.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"KPI name {name!r} is not valid; use a non-empty string.")
        if name in GREATER_IS_BETTER:
            raise InvalidInput(
                f"KPI name {name!r} is a built-in metric name; choose another (e.g. 'kpi_{name}')."
            )
        if isinstance(value, KPI):
            found[name] = value
        elif callable(value):
            found[name] = KPI(value)
        else:
            raise InvalidInput(
                f"KPI {name!r} is a {type(value).__name__}; give a function "
                "fn(y_true, y_pred, data) or KPI(fn, greater_is_better=False)."
            )
    return found
