"""Challenger against champion on the same labelled rows: the policy's own gate.

``ChampionComparison`` has the gate interface of :func:`mloop.registry.promote`
(``check(candidate, incumbent, data=, target=)``), so the registry runs it and records its
verdict with the promotion. ``AllOf`` combines it with a user's gate (for example a
:class:`mloop.evaluation.Gate` with fairness or KPI rules).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.evaluation.evaluate import evaluate
from mloop.evaluation.metrics import GREATER_IS_BETTER

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AllOf", "ChampionComparison", "ComparisonResult"]


@dataclass
class ComparisonResult:
    """Both models' metrics on the rows and the verdict."""

    passed: bool
    metric: str
    candidate: dict[str, float]
    incumbent: dict[str, float] | None
    rows: int
    failures: list[str] = field(default_factory=list)
    name: str = "champion_comparison"

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.name,
            "passed": self.passed,
            "metric": self.metric,
            "candidate": self.candidate,
            "incumbent": self.incumbent,
            "rows": self.rows,
            "failures": self.failures,
        }


class ChampionComparison:
    """The challenger must beat the champion on ``metric`` by at least ``min_improvement``.

    Both are scored by :func:`mloop.evaluate` (the gates' definition of every metric, the
    same :func:`mloop.evaluation.score` gives a monitoring window) on the same labelled
    rows (the columns the model needs, and ``target``). Metrics undefined on the rows are
    left out.
    """

    def __init__(
        self, metric: str, task: str, features: Sequence[str], min_improvement: float = 0.0
    ) -> None:
        if metric not in GREATER_IS_BETTER:
            raise InvalidInput(
                f"comparison metric {metric!r} is not known; use one of {', '.join(GREATER_IS_BETTER)}."
            )
        self.metric = metric
        self.task = task
        self.features = list(features)
        self.min_improvement = float(min_improvement)

    def score(self, model: Any, data: pd.DataFrame, target: str) -> dict[str, float]:
        result = evaluate(
            model,
            data[[*self.features, target]],
            target=target,
            task=self.task,
            log=False,
            plots=False,
            name="champion_comparison",
        )
        return {k: v for k, v in result.metrics.items() if not math.isnan(v)}

    def check(
        self, candidate: Any, incumbent: Any, *, data: Any = None, target: str | None = None
    ) -> ComparisonResult:
        if data is None or target is None or len(data) == 0:
            return ComparisonResult(
                False, self.metric, {}, None, 0, ["no labelled rows to compare the models on"]
            )
        new = self.score(candidate, data, target)
        old = self.score(incumbent, data, target) if incumbent is not None else None
        failures = []
        if self.metric not in new:
            failures.append(f"{self.metric} is undefined for the challenger on these rows")
        elif old is not None and self.metric in old:
            better = GREATER_IS_BETTER[self.metric]
            gain = (
                new[self.metric] - old[self.metric]
                if better
                else old[self.metric] - new[self.metric]
            )
            if gain < self.min_improvement:
                failures.append(
                    f"challenger {self.metric} {new[self.metric]:.4g} vs champion "
                    f"{old[self.metric]:.4g}: improvement {gain:.4g} < required {self.min_improvement:.4g}"
                )
        return ComparisonResult(not failures, self.metric, new, old, len(data), failures)


@dataclass
class _Combined:
    passed: bool
    results: list[Any]

    @property
    def failures(self) -> list[str]:
        return [f for r in self.results for f in r.failures]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "gates": [r.to_dict() for r in self.results]}


class AllOf:
    """Passes when every gate passes (all are run, so every verdict is recorded)."""

    def __init__(self, gates: Sequence[Any]) -> None:
        self.gates = [g for g in gates if g is not None]

    def check(
        self, candidate: Any, incumbent: Any, *, data: Any = None, target: str | None = None
    ) -> _Combined:
        results = [g.check(candidate, incumbent, data=data, target=target) for g in self.gates]
        return _Combined(all(r.passed for r in results), results)
