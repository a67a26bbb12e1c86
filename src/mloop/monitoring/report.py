"""What :func:`mloop.monitoring.drift` returns: per-column verdicts, the dataset verdict, findings.

>>> report = drift(reference, current)
>>> report.features["temp"].score, report.features["temp"].drifted
>>> report.dataset.share, report.dataset.score
>>> report.to_frame(); report.to_html("drift.html")
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core import display
from mloop.monitoring import _svg
from mloop.monitoring._templates import environment, now_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DatasetDrift", "DriftReport", "FeatureDrift", "Finding"]


@dataclass(frozen=True)
class Finding:
    """A data-quality observation made while comparing (not a drift verdict).

    ``kind`` is one of ``missing`` (column absent from the current data), ``all_null``,
    ``new_categories``, ``null_share`` (null share rose), ``invalid_values`` (±inf),
    ``reference_empty`` or ``skipped`` (a column type drift does not cover).
    """

    column: str
    kind: str
    message: str


@dataclass
class FeatureDrift:
    """The drift verdict of one column.

    ``score`` is the value of ``statistic`` (a distance, or a p-value for ``ks`` and
    ``chisquare``); ``drifted`` is None when the column could not be compared (see
    ``status`` and ``findings``). ``scores`` holds every statistic computed.
    """

    column: str
    kind: str | None
    statistic: str | None
    score: float | None
    threshold: float | None
    drifted: bool | None
    status: str  # ok | drifted | missing | empty | skipped
    scores: dict[str, float] = field(default_factory=dict)
    importance: float | None = None
    reference_rows: int = 0
    current_rows: int = 0
    reference_null_share: float = 0.0
    current_null_share: float = 0.0
    new_categories: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    bins: list[str] = field(default_factory=list, repr=False)
    reference_counts: list[float] = field(default_factory=list, repr=False)
    current_counts: list[float] = field(default_factory=list, repr=False)

    @property
    def severity(self) -> float:
        """How far past its threshold the score is: 1.0 at the threshold, 0 when unknown.

        Distances: ``score / threshold``; p-values: ``log(p) / log(threshold)``.
        """
        if self.score is None or self.threshold is None or not self.threshold:
            return 0.0
        if self.statistic in ("ks", "chisquare"):
            p = max(self.score, 1e-300)
            return math.log(p) / math.log(self.threshold) if self.threshold < 1 else 0.0
        return self.score / self.threshold

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureDrift:
        return cls(**data)


@dataclass
class DatasetDrift:
    """The verdict on the whole data set.

    ``share`` is the share of compared columns that drifted; ``score`` the same share
    weighted by importance (equal weights without importance), so one drifted key
    feature is not averaged away. ``drifted`` when either reaches ``threshold``.
    """

    columns: int
    drifted_columns: int
    share: float
    score: float
    threshold: float
    drifted: bool
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def rule(self) -> str:
        """The one definition of dataset drift, as every report states it."""
        line = f"{self.threshold:.0%}"
        return (
            f"Dataset drift: at least {line} of the compared features drifted, or drifted "
            f"features hold at least {line} of the model's importance (equal weights without "
            "importance). Fewer drifted features are reported per feature, not as dataset drift."
        )

    @property
    def verdict(self) -> str:
        """The verdict with its numbers, e.g. ``"no dataset drift: 6 of 16 features drifted
        (38%, 22% of importance), under the 50% line"``."""
        numbers = (
            f"{self.drifted_columns} of {self.columns} features drifted "
            f"({self.share:.0%}, {self.score:.0%} of importance)"
        )
        if self.drifted:
            return f"dataset drift: {numbers}, at or over the {self.threshold:.0%} line"
        return f"no dataset drift: {numbers}, under the {self.threshold:.0%} line"

    @property
    def badge(self) -> str:
        """``drift`` (the data set drifted), ``partial`` (some features did) or ``none``."""
        return "drift" if self.drifted else "partial" if self.drifted_columns else "none"


@dataclass
class DriftReport:
    """Per-column drift (``features``), the dataset verdict (``dataset``) and ``findings``."""

    features: dict[str, FeatureDrift]
    dataset: DatasetDrift
    findings: list[Finding]
    reference_rows: int
    current_rows: int
    seconds: float = 0.0
    title: str = "Drift report"

    def __repr__(self) -> str:
        drifted = ", ".join(self.drifted) or "none"
        return (
            f"DriftReport({self.dataset.drifted_columns}/{self.dataset.columns} columns drifted "
            f"[{drifted}], share={self.dataset.share:.2f}, score={self.dataset.score:.2f}, "
            f"dataset drifted={self.dataset.drifted}, findings={len(self.findings)})"
        )

    def _repr_html_(self) -> str:
        """The verdict, the columns most to blame first, and the findings, for notebooks."""
        tone = {"drift": "fail", "partial": "warn", "none": "ok"}[self.dataset.badge]
        head = {
            "verdict": display.badge(self.dataset.badge, tone),
            "reference rows": self.reference_rows,
            "current rows": self.current_rows,
        }
        ranked = self.ranked()
        others = [f for f in self.features.values() if f.score is None]
        rows = [
            (
                f.column,
                f.statistic,
                f.score,
                f.threshold,
                f.importance,
                display.badge("drifted", "fail") if f.drifted else f.status,
                "; ".join(f.findings),
            )
            for f in [*ranked, *others]
        ]
        columns = ("column", "statistic", "score", "threshold", "importance", "status", "findings")
        findings = display.table(
            ("column", "finding"), [(f.column, f.message) for f in self.findings]
        )
        return display.block(
            self.title,
            display.facts(head),
            display.cell(self.dataset.verdict),
            display.table(columns, rows),
            findings if self.findings else "",
            note="Most to blame first. Histograms: report.to_html(path).",
        )

    @property
    def drifted(self) -> list[str]:
        """Names of the drifted columns."""
        return [name for name, f in self.features.items() if f.drifted]

    def ranked(self) -> list[FeatureDrift]:
        """Compared columns, most to blame first: severity times importance (or severity)."""
        compared = [f for f in self.features.values() if f.score is not None]
        return sorted(
            compared,
            key=lambda f: -(f.severity * (f.importance if f.importance is not None else 1.0)),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per column: statistic, score, threshold, drifted, status and every score."""
        import pandas as pd

        rows = []
        for f in self.features.values():
            row: dict[str, Any] = {
                "column": f.column,
                "kind": f.kind,
                "statistic": f.statistic,
                "score": f.score,
                "threshold": f.threshold,
                "drifted": f.drifted,
                "status": f.status,
                "importance": f.importance,
                "reference_null_share": f.reference_null_share,
                "current_null_share": f.current_null_share,
            }
            row.update({f"score_{name}": value for name, value in f.scores.items()})
            row["findings"] = "; ".join(f.findings)
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "seconds": self.seconds,
            "dataset": self.dataset.to_dict(),
            "features": {name: f.to_dict() for name, f in self.features.items()},
            "findings": [asdict(f) for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        return cls(
            features={
                name: FeatureDrift.from_dict(f) for name, f in data.get("features", {}).items()
            },
            dataset=DatasetDrift(**data["dataset"]),
            findings=[Finding(**f) for f in data.get("findings", [])],
            reference_rows=int(data.get("reference_rows", 0)),
            current_rows=int(data.get("current_rows", 0)),
            seconds=float(data.get("seconds", 0.0)),
            title=str(data.get("title", "Drift report")),
        )

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML page: verdicts, findings, reference-vs-current histograms."""
        template = environment().get_template("drift.html.j2")
        features = list(self.features.values())
        charts = {f.column: histogram_chart(f) for f in features}
        html = template.render(r=self, features=features, charts=charts, created=now_text())
        if path is not None:
            Path(path).write_text(html)
        return html


def histogram_chart(feature: FeatureDrift) -> str:
    """Reference versus current shares per bin (or category) of one column."""
    if not feature.bins or not feature.reference_counts:
        return ""
    ref_total = sum(feature.reference_counts) or 1.0
    cur_total = sum(feature.current_counts) or 1.0
    labels, ref, cur = feature.bins, feature.reference_counts, feature.current_counts
    if len(labels) > 30:  # many categories: the 30 most frequent on either side
        keep = sorted(range(len(labels)), key=lambda i: -(ref[i] / ref_total + cur[i] / cur_total))[
            :30
        ]
        labels = [labels[i] for i in keep]
        ref, cur = [ref[i] for i in keep], [cur[i] for i in keep]
    return _svg.bars(
        labels,
        {
            "reference": [v / ref_total for v in ref],
            "current": [v / cur_total for v in cur],
        },
    )
