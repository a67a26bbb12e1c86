"""The demo's scenario: what is trained, replayed and watched, with its embedded defaults.

>>> Scenario().days_per_month, Scenario.quick().days_per_month
(2, 1)

The label is the FAA's definition of a delayed flight: it **departs 15 minutes or more
after its scheduled time**. A prediction is made at the start of the flight's scheduled
hour (``time_hour``, UTC) from what is known then; the true delay arrives as feedback a
day after that hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mloop.core.errors import InvalidInput

MODEL = "flight-delays"
SERVICE = "delay_model"
TARGET = "late"

# fields of a request that the model reads as they are
REQUEST_FEATURES = ["origin", "carrier", "hour", "distance"]
WEATHER = ["temp", "dewp", "humid", "wind_speed", "precip", "visib", "pressure"]
ENRICHED = [
    *WEATHER,
    "pressure_change_3h",
    "dep_delay_mean_7d",
    "flights_7d",
    "plane_year",
    "seats",
]
FEATURES = [*REQUEST_FEATURES, *ENRICHED]
# what the client sends besides the model's own fields (entity keys and flight details)
REQUEST_EXTRA = ["flight", "tailnum", "dest", "scheduled"]


@dataclass(frozen=True)
class Scenario:
    """Everything the demo decides, in one place (``mloop demo`` uses the defaults).

    Args:
        first_cutoff: the first model trains on flights before this day (January–March).
        replay_months: the months replayed as production traffic.
        days_per_month: the first days of each month that are replayed, hour by hour
            (a sample that keeps the demo within its time budget).
        label_delay_hours: how long after a flight's hour its true delay arrives.
        history_days, max_training_rows: a model trains on the flights of this many days
            before its cut-off (all of 2013 so far), a uniform sample of at most this many.
        alert_threshold: a flight whose delay probability reaches it gets an alert row.
        missed_cost, false_alarm_cost: the KPI's price of a late flight without an alert
            and of an alert for a flight that left on time.
        validation_fraction: the latest share of the training rows held out for evaluation.
        min_roc_auc: the gate's floor for a model's ROC AUC on its validation rows.
        model_params: the gradient-boosting parameters.
        threads: threads per model fit and prediction (1 suits a shared 2-core machine).
        poll_seconds: how often the server checks the champion alias.
    """

    first_cutoff: str = "2013-04-01"
    replay_months: tuple[int, ...] = (4, 5, 6, 7, 8, 9, 10, 11, 12)
    days_per_month: int = 2
    label_delay_hours: int = 24
    history_days: int = 365
    max_training_rows: int = 100_000
    alert_threshold: float = 0.3
    missed_cost: float = 40.0
    false_alarm_cost: float = 10.0
    validation_fraction: float = 0.2
    min_roc_auc: float = 0.65
    model_params: dict[str, Any] = field(
        default_factory=lambda: {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31}
    )
    threads: int = 1
    poll_seconds: float = 0.5
    name: str = "full"

    def __post_init__(self) -> None:
        if not 1 <= self.days_per_month <= 28:
            raise InvalidInput(
                f"days_per_month = {self.days_per_month} must be between 1 and 28, e.g. 2."
            )
        bad = [m for m in self.replay_months if not 4 <= m <= 12]
        if bad or not self.replay_months:
            raise InvalidInput(
                f"replay_months = {self.replay_months} must be months 4 to 12 (the first model "
                "trains on January–March), e.g. (4, 5, 6)."
            )
        if not 0 < self.alert_threshold < 1:
            raise InvalidInput(f"alert_threshold = {self.alert_threshold} must be in (0, 1).")

    @classmethod
    def quick(cls) -> Scenario:
        """The smaller replay the tests use: the first day of each month."""
        return cls(days_per_month=1, name="quick")

    def with_days(self, days: int) -> Scenario:
        return replace(self, days_per_month=days)

    def with_months(self, months: str) -> Scenario:
        """Replay only ``months``: ``"4-7"`` or ``"4,6,9"``.

        >>> Scenario().with_months("4-6").replay_months
        (4, 5, 6)
        """
        try:
            if "-" in months:
                low, high = (int(p) for p in months.split("-", 1))
                chosen = tuple(range(low, high + 1))
            else:
                chosen = tuple(int(p) for p in months.split(",") if p.strip())
        except ValueError:
            raise InvalidInput(
                f"months {months!r} is not a range or list of month numbers; use e.g. 4-7 or 4,6,9."
            ) from None
        return replace(self, replay_months=tuple(sorted(set(chosen))))

    def params(self) -> dict[str, Any]:
        """The training pipeline's parameters (``params:...``) for this scenario."""
        return {
            "until": f"{self.first_cutoff}T00:00:00+00:00",
            "data": {
                "history_days": self.history_days,
                "max_rows": self.max_training_rows,
                "label_delay_hours": self.label_delay_hours,
            },
            "split": {"validation_fraction": self.validation_fraction},
            "model": {**self.model_params, "threads": self.threads},
            "release": {
                "model": MODEL,
                "promote": False,
                "deployment": "",
                "min_roc_auc": self.min_roc_auc,
                "alert_threshold": self.alert_threshold,
                "missed_cost": self.missed_cost,
                "false_alarm_cost": self.false_alarm_cost,
            },
        }

    def describe(self) -> str:
        first, last = self.replay_months[0], self.replay_months[-1]
        if len(self.replay_months) == last - first + 1:
            months = _month(first) if first == last else f"{_month(first)}–{_month(last)}"
        else:
            months = ", ".join(_month(m) for m in self.replay_months)
        days = "day" if self.days_per_month == 1 else f"{self.days_per_month} days"
        return f"{months} 2013, the first {days} of each month, hour by hour"


def _month(number: int) -> str:
    import calendar

    return calendar.month_name[number]
