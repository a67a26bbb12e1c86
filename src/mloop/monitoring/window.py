"""A window: the prediction log of one model version over a period, summarised.

A window keeps the profile of its rows (mergeable, so long periods never need the raw rows
again), its drift against the reference, the data-quality verdict, and — once labels
have arrived — the model's metrics, KPIs and the root-cause ranking.

>>> w = monitor.windows()[-1]
>>> w.drift.dataset.share, w.performance.get("accuracy"), w.value("drift.temp")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.clock import ms_to_datetime
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.evaluation.metrics import GREATER_IS_BETTER
from mloop.monitoring.report import DriftReport

if TYPE_CHECKING:
    from mloop.data import Profile

__all__ = ["METRIC_PREFIXES", "Window"]

METRIC_PREFIXES = (
    "drift.share",
    "drift.score",
    "drift.drifted",
    "drift.<column>",
    "drift.<column>.<statistic>",
    "performance.<metric>",
    "performance_drop.<metric>",
    "kpi.<name>",
    "quality.failed_checks",
    "quality.findings",
    "quality.anomalies",
    "quality.anomaly_rate",
    "rows",
    "label_coverage",
    "latency.p50",
    "latency.p95",
    "latency.p99",
)


@dataclass
class Window:
    """One window of one model version (times are epoch milliseconds, ``[start, end)``)."""

    id: str
    model_name: str
    model_version: str
    start: int
    end: int
    num_rows: int
    drift: DriftReport
    output_drift: DriftReport | None = None
    labelled_rows: int = 0
    skipped_labels: dict[str, int] = field(default_factory=dict)  # reason -> rows
    performance: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    kpis: dict[str, float | None] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    root_cause: dict[str, Any] = field(default_factory=dict)
    profile_key: str | None = None
    created_at: int = 0
    updated_at: int = 0
    # set by the store that saved or read the window: a value does not load itself
    _load_profile: Callable[[Window], Profile] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __repr__(self) -> str:
        start = ms_to_datetime(self.start).strftime("%Y-%m-%d %H:%M")
        end = ms_to_datetime(self.end).strftime("%Y-%m-%d %H:%M")
        return (
            f"Window({self.model_name}/{self.model_version} {start} → {end}, rows={self.num_rows}, "
            f"drift share={self.drift.dataset.share:.2f}, drifted={self.drift.drifted}, "
            f"labelled={self.labelled_rows}{self._skipped_text()}, performance={self.performance})"
        )

    def _skipped_text(self) -> str:
        if not self.skipped_labels:
            return ""
        reasons = "; ".join(f"{n} {r}" for r, n in self.skipped_labels.items())
        return f", labels skipped: {reasons}"

    @property
    def label_coverage(self) -> float:
        return self.labelled_rows / self.num_rows if self.num_rows else 0.0

    def value(self, metric: str) -> float | None:
        """A number of this window by name (see :data:`METRIC_PREFIXES`); None when unknown yet.

        ``drift.<column>`` is the column's drift *severity* (its score relative to its
        threshold: 1 at the threshold, above it drifted), comparable whatever statistic
        the window size chose; ``drift.<column>.<statistic>`` is a raw score
        (``drift.temp.wasserstein``, ``drift.temp.ks`` for the p-value).

        Raises:
            InvalidInput: ``metric`` is not of a known form.
        """
        head, _, rest = metric.partition(".")
        if metric == "rows":
            return float(self.num_rows)
        if metric == "label_coverage":
            return self.label_coverage
        if head == "drift" and rest:
            dataset = self.drift.dataset
            if rest == "share":
                return dataset.share
            if rest == "score":
                return dataset.score
            if rest == "drifted":
                return float(dataset.drifted)
            column, _, statistic = rest.rpartition(".")
            for report in (self.drift, self.output_drift):
                if report is None:
                    continue
                if rest in report.features:  # drift.<column>: severity, 1 at the threshold
                    feature = report.features[rest]
                    return feature.severity if feature.score is not None else None
                if column in report.features:  # drift.<column>.<statistic>: the raw score
                    return report.features[column].scores.get(statistic)
            return None
        if head == "performance" and rest:
            return self.performance.get(rest)
        if head == "performance_drop" and rest:
            now, before = self.performance.get(rest), self.baseline.get(rest)
            if now is None or before is None:
                return None
            return before - now if GREATER_IS_BETTER.get(rest, True) else now - before
        if head == "kpi" and rest:
            return self.kpis.get(rest)
        if head == "latency" and rest:
            return self.latency.get(rest)
        if metric == "quality.failed_checks":
            return float(len(self.quality.get("failed", [])))
        if metric == "quality.findings":
            return float(len(self.drift.findings))
        if metric in ("quality.anomalies", "quality.anomaly_rate"):  # a stream's windows
            found = self.quality.get(rest)
            return None if found is None else float(found)
        raise InvalidInput(
            f"metric {metric!r} is not known."
            + did_you_mean(metric, [p.split("<")[0].rstrip(".") for p in METRIC_PREFIXES])
            + f" Use one of: {', '.join(METRIC_PREFIXES)}."
        )

    def profile(self) -> Profile:
        """The profile of this window's rows (stored as an artifact).

        Raises:
            NotFound: the window was not read from, nor saved to, the metadata store.
        """
        if self._load_profile is None:
            raise NotFound(
                f"window {self.id!r} has no stored profile; read windows with Monitor.windows() "
                "or mloop.monitoring.windows() to reach their profiles."
            )
        return self._load_profile(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "start": self.start,
            "end": self.end,
            "num_rows": self.num_rows,
            "labelled_rows": self.labelled_rows,
            "skipped_labels": self.skipped_labels,
            "drift": self.drift.to_dict(),
            "output_drift": None if self.output_drift is None else self.output_drift.to_dict(),
            "performance": self.performance,
            "baseline": self.baseline,
            "kpis": self.kpis,
            "latency": self.latency,
            "quality": self.quality,
            "root_cause": self.root_cause,
            "profile_key": self.profile_key,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def summary(self) -> dict[str, Any]:
        """One flat row for tables."""
        return {
            "id": self.id,
            "version": self.model_version,
            "start": self.start,
            "end": self.end,
            "rows": self.num_rows,
            "drift_share": round(self.drift.dataset.share, 3),
            "drift_score": round(self.drift.dataset.score, 3),
            "drifted": ", ".join(self.drift.drifted),
            "labelled": self.labelled_rows,
            "skipped_labels": sum(self.skipped_labels.values()),
            **{k: round(v, 4) for k, v in self.performance.items()},
            "quality_failed": len(self.quality.get("failed", [])),
        }
