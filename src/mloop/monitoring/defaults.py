"""Drift defaults, in one place: which statistic for which column, and the thresholds.

Numeric columns: ``wasserstein`` (drifted at >= 0.1) when both sides hold more than
``small_sample`` values, else ``ks`` (p < 0.05); categorical: ``jensenshannon`` (>= 0.1)
when large enough for its chance level, else ``chisquare`` (p < 0.05). The table, each
statistic's threshold and why: docs/decisions/0081-monitoring-drift-windows-loop.md
("Drift defaults").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mloop.core.errors import InvalidInput, did_you_mean
from mloop.monitoring.statistics import js_noise

__all__ = ["DISTANCES", "P_VALUES", "STATISTICS", "DriftDefaults", "defaults"]

DISTANCES = ("wasserstein", "psi", "jensenshannon", "hellinger")
P_VALUES = ("ks", "chisquare")
STATISTICS = (*DISTANCES, *P_VALUES)
NUMERIC_ONLY = ("wasserstein", "ks")

THRESHOLDS: dict[str, float] = {
    "wasserstein": 0.1,
    "psi": 0.2,
    "jensenshannon": 0.1,
    "hellinger": 0.1,
    "ks": 0.05,
    "chisquare": 0.05,
}


@dataclass(frozen=True)
class DriftDefaults:
    """The choices :func:`mloop.monitoring.drift` makes when a column has no override.

    >>> DriftDefaults().statistic_for("numeric", 50_000, 800)
    'ks'
    >>> DriftDefaults(small_sample=100).statistic_for("numeric", 50_000, 800)
    'wasserstein'
    """

    small_sample: int = 1000
    numeric: str = "wasserstein"
    categorical: str = "jensenshannon"
    numeric_small: str = "ks"
    categorical_small: str = "chisquare"
    bins: int = 20
    psi_epsilon: float = 1e-4
    exact_ks_limit: int = 10_000
    dataset_share: float = 0.5
    null_share_rise: float = 0.05
    thresholds: dict[str, float] = field(default_factory=lambda: dict(THRESHOLDS))

    def __post_init__(self) -> None:
        for role in ("numeric", "categorical", "numeric_small", "categorical_small"):
            check_statistic(getattr(self, role), f"DriftDefaults.{role}")
        for role in ("categorical", "categorical_small"):
            if getattr(self, role) in NUMERIC_ONLY:
                raise InvalidInput(
                    f"DriftDefaults.{role} = {getattr(self, role)!r} only applies to numeric "
                    "columns; use chisquare, jensenshannon, psi or hellinger."
                )
        unknown = set(self.thresholds) - set(STATISTICS)
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(
                f"DriftDefaults.thresholds has unknown statistic {name!r}."
                + did_you_mean(name, STATISTICS)
                + f" Statistics: {', '.join(STATISTICS)}."
            )
        if self.bins < 2:
            raise InvalidInput(f"DriftDefaults.bins = {self.bins} must be at least 2.")
        if not 0 < self.psi_epsilon < 0.01:
            raise InvalidInput(
                f"DriftDefaults.psi_epsilon = {self.psi_epsilon} must be in (0, 0.01)."
            )

    def statistic_for(
        self, kind: str, reference_rows: int, current_rows: int, categories: int = 2
    ) -> str:
        """The default statistic of a ``numeric`` or ``categorical`` column (see the table)."""
        small = min(reference_rows, current_rows) <= self.small_sample
        if kind == "numeric":
            return self.numeric_small if small else self.numeric
        if not small:
            noise = js_noise(categories, reference_rows, current_rows)
            small = noise >= self.threshold_for(self.categorical) / 2
        return self.categorical_small if small else self.categorical

    def threshold_for(self, statistic: str) -> float:
        return self.thresholds.get(statistic, THRESHOLDS[statistic])

    def with_(self, **changes: Any) -> DriftDefaults:
        """A copy with some fields changed (thresholds are merged, not replaced)."""
        if "thresholds" in changes:
            changes["thresholds"] = {**self.thresholds, **changes["thresholds"]}
        return replace(self, **changes)


def check_statistic(name: Any, where: str = "statistic") -> str:
    """``name`` if it is a known statistic, else :class:`InvalidInput` naming the choices."""
    if name not in STATISTICS:
        raise InvalidInput(
            f"{where} = {name!r} is not a drift statistic."
            + (did_you_mean(name, STATISTICS) if isinstance(name, str) else "")
            + f" Choose one of {', '.join(STATISTICS)}."
        )
    return str(name)


def is_p_value(statistic: str) -> bool:
    return statistic in P_VALUES


def is_drifted(statistic: str, score: float, threshold: float) -> bool:
    """Distances drift at ``score >= threshold``, p-values at ``score < threshold``."""
    return score < threshold if is_p_value(statistic) else score >= threshold


defaults = DriftDefaults()
"""The drift defaults in force (statistics, thresholds, bins): see :class:`DriftDefaults`."""
