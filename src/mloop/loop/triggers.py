"""What starts a retraining: drift in k of the last n windows, an accuracy drop, a schedule.

A trigger looks at the champion's stored windows (and the policy's memory) and either
fires, with a reason and its evidence, or stays quiet.

>>> triggers = [DriftTrigger(k=2, n=3), AccuracyDrop("roc_auc", drop=0.03), Schedule("0 3 * * 1")]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mloop.core.clock import ms_to_datetime
from mloop.core.errors import InvalidInput
from mloop.evaluation.metrics import GREATER_IS_BETTER
from mloop.pipelines.schedule import check_cron, last_fire

if TYPE_CHECKING:
    from mloop.monitoring import Reference, Window

__all__ = [
    "AccuracyDrop",
    "DriftTrigger",
    "Fired",
    "Schedule",
    "Trigger",
    "TriggerContext",
    "drifted_importance",
]


@dataclass
class TriggerContext:
    """What a trigger may look at: the champion's windows (oldest first) and the policy state."""

    model: str
    champion_version: int
    windows: list[Window]
    now: int  # epoch milliseconds
    reference: Reference | None = None
    last_tick_at: int | None = None


@dataclass
class Fired:
    """A trigger that fired: its kind, a readable reason, the evidence and its window."""

    kind: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    window_id: str | None = None
    tick_at: int | None = None


class Trigger(Protocol):
    """What starts a retraining: ``check`` looks at the latest window and says whether it fires."""

    kind: str

    def check(self, context: TriggerContext) -> Fired | None: ...


@dataclass(frozen=True)
class DriftTrigger:
    """Drift in at least ``k`` of the champion's last ``n`` windows.

    A window counts as drifted when it shows dataset drift; with ``columns``, when any
    of them drifted; with ``share``, when at least that share of features drifted; with
    ``importance``, when the drifted features hold at least that share of the model's
    importance (the reference's permutation importance; equal weights without one), so a
    feature the model barely uses can drift without starting a retraining.

    >>> DriftTrigger(k=2, n=3, importance=0.3)     # weighted by what the model relies on
    >>> DriftTrigger(k=2, n=3, columns=["temp"])   # unweighted: any drift of temp counts
    """

    k: int = 2
    n: int = 3
    columns: Sequence[str] | None = None
    share: float | None = None
    importance: float | None = None
    kind: str = "drift"

    def __post_init__(self) -> None:
        if not (isinstance(self.k, int) and isinstance(self.n, int) and 1 <= self.k <= self.n):
            raise InvalidInput(
                f"DriftTrigger(k={self.k!r}, n={self.n!r}): need 1 <= k <= n (drift in k of the "
                "last n windows)."
            )
        if self.share is not None and not 0 < self.share <= 1:
            raise InvalidInput(f"DriftTrigger share = {self.share!r} must be in (0, 1].")
        if self.importance is not None and (
            isinstance(self.importance, bool)
            or not isinstance(self.importance, int | float)
            or not 0 < self.importance <= 1
        ):
            raise InvalidInput(
                f"DriftTrigger importance = {self.importance!r} must be in (0, 1]: the share of "
                "the model's importance the drifted features must hold."
            )
        chosen = [
            name for name in ("columns", "share", "importance") if getattr(self, name) is not None
        ]
        if len(chosen) > 1:
            raise InvalidInput(
                f"DriftTrigger takes one of columns, share or importance, not {' and '.join(chosen)}."
            )
        if isinstance(self.columns, str):
            raise InvalidInput(
                f"DriftTrigger columns = {self.columns!r} must be a list of column names."
            )

    def drifted(self, window: Window) -> bool:
        report = window.drift
        if self.columns is not None:
            return any(
                name in report.features and bool(report.features[name].drifted)
                for name in self.columns
            )
        if self.share is not None:
            return report.dataset.share >= self.share
        if self.importance is not None:
            return drifted_importance(window) >= self.importance
        return bool(report.dataset.drifted)

    def check(self, context: TriggerContext) -> Fired | None:
        recent = context.windows[-self.n :]
        hits = [w for w in recent if self.drifted(w)]
        if len(recent) < self.k or len(hits) < self.k:
            return None
        latest = hits[-1]
        columns = sorted({c for w in hits for c in w.drift.drifted})
        evidence: dict[str, Any] = {
            "windows": [w.id for w in hits],
            "drifted_columns": columns,
            "shares": [round(w.drift.dataset.share, 4) for w in hits],
        }
        weighted = ""
        if self.importance is not None:
            held = [round(drifted_importance(w), 4) for w in hits]
            evidence["importance_shares"] = held
            weighted = f", holding {max(held):.0%} of the model's importance"
        return Fired(
            self.kind,
            f"drift in {len(hits)} of the last {len(recent)} windows of version "
            f"{context.champion_version} ({', '.join(columns) or 'dataset'}{weighted})",
            evidence,
            latest.id,
        )


def drifted_importance(window: Window) -> float:
    """The share of the model's importance that the window's drifted features hold.

    Importance is the reference's (normalised over the compared features); without one,
    every compared feature weighs the same and this is the share of drifted features.
    """
    compared = [f for f in window.drift.features.values() if f.drifted is not None]
    weights = {f.column: f.importance for f in compared if f.importance is not None}
    if not compared:
        return 0.0
    if not weights or sum(weights.values()) <= 0:
        return sum(1 for f in compared if f.drifted) / len(compared)
    total = sum(weights.values())
    return sum(weights.get(f.column, 0.0) for f in compared if f.drifted) / total


@dataclass(frozen=True)
class AccuracyDrop:
    """The champion's ``metric`` on its latest labelled window fell by ``drop`` or more.

    The baseline is the metric on the champion's reference data (make the reference from
    held-out validation rows so it is honest) unless ``baseline`` is given. With
    ``relative`` the drop is a fraction of the baseline.
    """

    metric: str = "accuracy"
    drop: float = 0.05
    baseline: float | None = None
    relative: bool = False
    min_labelled: int = 100
    kind: str = "accuracy"

    def __post_init__(self) -> None:
        if self.metric not in GREATER_IS_BETTER:
            raise InvalidInput(
                f"AccuracyDrop metric {self.metric!r} is not known; use one of "
                f"{', '.join(GREATER_IS_BETTER)}."
            )
        if not isinstance(self.drop, int | float) or not math.isfinite(self.drop) or self.drop <= 0:
            raise InvalidInput(f"AccuracyDrop drop = {self.drop!r} must be a positive number.")

    def check(self, context: TriggerContext) -> Fired | None:
        labelled = [
            w
            for w in context.windows
            if w.labelled_rows >= self.min_labelled and self.metric in w.performance
        ]
        if not labelled:
            return None
        latest = labelled[-1]
        base = self.baseline
        if base is None and context.reference is not None:
            base = context.reference.metrics.get(self.metric)
        if base is None:
            return None
        now = latest.performance[self.metric]
        fall = base - now if GREATER_IS_BETTER[self.metric] else now - base
        limit = self.drop * abs(base) if self.relative else self.drop
        if fall < limit:
            return None
        return Fired(
            self.kind,
            f"{self.metric} of version {context.champion_version} fell from {base:.4g} to "
            f"{now:.4g} on {latest.labelled_rows} labelled rows (limit {limit:.4g})",
            {"metric": self.metric, "baseline": base, "current": now, "drop": fall},
            latest.id,
        )


@dataclass(frozen=True)
class Schedule:
    """A cron schedule (``"0 3 * * 1"``: Mondays at 03:00 UTC).

    It fires at the first step after a tick; the first step of a new policy only
    remembers the time (no tick has passed since the policy started). The cron
    expressions are read by :mod:`mloop.pipelines.schedule`, mloop's one cron mechanism;
    this trigger keeps only the policy's tick (a pipeline schedule is a stored row that
    ``mloop scheduler`` fires).
    """

    cron: str
    kind: str = "schedule"

    def __post_init__(self) -> None:
        check_cron(self.cron)

    def check(self, context: TriggerContext) -> Fired | None:
        if context.last_tick_at is None:
            return None
        tick_ms = last_fire(self.cron, context.now)  # the latest tick before now
        if tick_ms <= context.last_tick_at:
            return None
        tick = ms_to_datetime(tick_ms)
        latest = context.windows[-1].id if context.windows else None
        return Fired(
            self.kind,
            f"scheduled retraining ({self.cron}) due at {tick:%Y-%m-%d %H:%M} UTC",
            {"cron": self.cron, "tick": tick_ms},
            latest,
            tick_at=tick_ms,
        )
