"""The business KPI and the release gate of the demo's delay model.

The KPI prices the alert policy (an alert when the delay probability reaches the alert
threshold): ``missed_cost`` for each late flight without an alert and
``false_alarm_cost`` for each alert on a flight that left on time, **per flight**. The
gate asks for a ROC AUC of at least ``min_roc_auc`` and a KPI below the cost of never
alerting (``missed_cost`` × the share of late flights): a model must pay for itself.

>>> kpi = DelayCost(threshold=0.3, missed=40, false_alarm=10)
>>> kpi(pd.Series([1, 0]), pd.Series([0, 0]), None, y_score=pd.Series([0.1, 0.5]))
25.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.demo.scenario import TARGET

if TYPE_CHECKING:
    import pandas as pd

    from mloop.evaluation import KPI, Gate


@dataclass(frozen=True)
class DelayCost:
    """Cost per flight of alerting at ``threshold`` (lower is better).

    Called as an evaluation KPI ``(y_true, y_pred, data, y_score=...)`` or as a monitoring
    KPI ``(y_true, y_pred, rows)``, where the rows carry the served ``proba``.
    """

    threshold: float
    missed: float
    false_alarm: float

    def __call__(self, y_true: Any, y_pred: Any, data: Any, y_score: Any = None) -> float:
        import numpy as np

        score = y_score if y_score is not None else data["proba"]
        truth = np.asarray(y_true, dtype=float) == 1
        alert = np.asarray(score, dtype=float) >= self.threshold
        if len(truth) == 0:
            return float("nan")
        cost = self.missed * (truth & ~alert).sum() + self.false_alarm * (~truth & alert).sum()
        return float(cost / len(truth))


def delay_cost(release: dict[str, Any]) -> DelayCost:
    return DelayCost(
        float(release["alert_threshold"]),
        float(release["missed_cost"]),
        float(release["false_alarm_cost"]),
    )


def delay_cost_kpi(release: dict[str, Any]) -> KPI:
    from mloop.evaluation import KPI

    return KPI(delay_cost(release), greater_is_better=False)


def release_gate(release: dict[str, Any], rows: pd.DataFrame) -> Gate:
    """ROC AUC floor, and cheaper than never alerting on these rows."""
    from mloop.evaluation import Gate, rules

    never_alert = float(release["missed_cost"]) * float(rows[TARGET].mean())
    return Gate(
        [
            rules.min_metric("roc_auc", float(release["min_roc_auc"])),
            rules.kpi("missed_delay_cost", delay_cost_kpi(release), max=never_alert),
        ],
        name=f"{release['model']}-release",
    )
