"""What :func:`mloop.evaluate` returns: metrics, undefined-metric reasons, slices, KPIs,
the comparison with a baseline, plus the tables behind the plots. It round-trips through
JSON (``to_dict``/``from_dict``) so model cards can be rebuilt from what was logged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core import display
from mloop.evaluation._plain import plain
from mloop.evaluation._render import render_evaluation
from mloop.evaluation.explain import Explanation
from mloop.evaluation.fairness import FairnessResult
from mloop.evaluation.metrics import greater_is_better
from mloop.evaluation.plots import figures

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["EvaluationResult", "plain"]


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    if frame is None:
        return None
    return [plain(row) for row in frame.to_dict(orient="records")]


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass
class EvaluationResult:
    """The evidence about one model on one set of rows.

    ``metrics`` holds plain floats (NaN when undefined, with the reason in ``undefined``);
    ``slices`` one row per slice value, worst first by ``primary_metric``;
    ``comparison`` the candidate against the baseline, metric by metric.
    """

    id: str
    name: str
    task: str
    model: str
    model_version: str | None
    dataset: str | None
    num_rows: int
    target: str
    created_at: int
    metrics: dict[str, float] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)
    kpis: dict[str, float] = field(default_factory=dict)
    kpi_greater_is_better: dict[str, bool] = field(default_factory=dict)
    slices: pd.DataFrame = field(default=None, repr=False)  # type: ignore[assignment]
    comparison: pd.DataFrame | None = field(default=None, repr=False)
    baseline: dict[str, Any] | None = field(default=None, repr=False)
    threshold: float | None = None
    pos_label: Any = None
    classes: list[Any] = field(default_factory=list)
    primary_metric: str | None = None
    confusion: pd.DataFrame | None = field(default=None, repr=False)
    calibration: pd.DataFrame | None = field(default=None, repr=False)
    curves: dict[str, Any] = field(default_factory=dict, repr=False)
    fairness: dict[str, FairnessResult] = field(default_factory=dict, repr=False)
    importance: Explanation | None = field(default=None, repr=False)
    run_id: str | None = None

    def greater_is_better(self, name: str) -> bool:
        return greater_is_better(name, self.kpi_greater_is_better)

    def set_baseline(self, base: EvaluationResult) -> None:
        """Compare with ``base`` (evaluated on the same rows), metric by metric and KPI by KPI."""
        import pandas as pd

        rows = []
        for name, value in [*self.metrics.items(), *self.kpis.items()]:
            other = base.metrics.get(name, base.kpis.get(name))
            if other is None:
                continue
            difference = value - other
            higher = self.greater_is_better(name)
            improved = (
                None if math.isnan(difference) else (difference > 0) == higher and difference != 0
            )
            rows.append(
                {
                    "metric": name,
                    "candidate": value,
                    "baseline": other,
                    "difference": difference,
                    "relative_difference": difference / abs(other) if other else float("nan"),
                    "greater_is_better": higher,
                    "improved": improved,
                }
            )
        self.comparison = pd.DataFrame(rows)
        self.baseline = {
            "model": base.model,
            "model_version": base.model_version,
            "metrics": dict(base.metrics),
            "kpis": dict(base.kpis),
            "undefined": dict(base.undefined),
        }

    # -- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "id": self.id,
                "name": self.name,
                "task": self.task,
                "model": self.model,
                "model_version": self.model_version,
                "dataset": self.dataset,
                "num_rows": self.num_rows,
                "target": self.target,
                "created_at": self.created_at,
                "run_id": self.run_id,
                "metrics": self.metrics,
                "undefined": self.undefined,
                "kpis": self.kpis,
                "kpi_greater_is_better": self.kpi_greater_is_better,
                "threshold": self.threshold,
                "pos_label": self.pos_label,
                "classes": self.classes,
                "primary_metric": self.primary_metric,
                "slices": _records(self.slices),
                "comparison": _records(self.comparison),
                "baseline": self.baseline,
                "confusion": None
                if self.confusion is None
                else {
                    "labels": [str(c) for c in self.confusion.columns],
                    "matrix": self.confusion.to_numpy().tolist(),
                },
                "calibration": _records(self.calibration),
                "curves": self.curves,
                "fairness": {k: v.to_dict() for k, v in self.fairness.items()},
                "importance": None if self.importance is None else self.importance.to_dict(),
            }
        )

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, default=str)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        import pandas as pd

        def frame(key: str) -> pd.DataFrame | None:
            rows = data.get(key)
            return None if rows is None else pd.DataFrame(rows)

        confusion = None
        if data.get("confusion"):
            labels = data["confusion"]["labels"]
            confusion = pd.DataFrame(
                data["confusion"]["matrix"],
                index=pd.Index(labels, name="actual"),
                columns=pd.Index(labels, name="predicted"),
            )
        result = cls(
            id=data["id"],
            name=data.get("name", "evaluation"),
            task=data["task"],
            model=data.get("model", ""),
            model_version=data.get("model_version"),
            dataset=data.get("dataset"),
            num_rows=int(data.get("num_rows", 0)),
            target=data.get("target", ""),
            created_at=int(data.get("created_at", 0)),
            metrics={k: _nan(v) for k, v in data.get("metrics", {}).items()},
            undefined=dict(data.get("undefined", {})),
            kpis={k: _nan(v) for k, v in data.get("kpis", {}).items()},
            kpi_greater_is_better=dict(data.get("kpi_greater_is_better", {})),
            slices=pd.DataFrame(data.get("slices") or []),
            comparison=frame("comparison"),
            baseline=data.get("baseline"),
            threshold=data.get("threshold"),
            pos_label=data.get("pos_label"),
            classes=list(data.get("classes", [])),
            primary_metric=data.get("primary_metric"),
            confusion=confusion,
            calibration=frame("calibration"),
            curves=dict(data.get("curves") or {}),
            fairness={
                k: FairnessResult.from_dict(v) for k, v in (data.get("fairness") or {}).items()
            },
            importance=Explanation.from_dict(data["importance"])
            if data.get("importance")
            else None,
            run_id=data.get("run_id"),
        )
        return result

    # -- reports ---------------------------------------------------------------------------

    def figures(self) -> dict[str, Any]:
        """Matplotlib figures of this result (ROC, PR, calibration, confusion, slices...)."""
        return figures(self)

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML report (plots embedded as PNG), written to ``path`` if given."""
        html = render_evaluation(self)
        if path is not None:
            Path(path).write_text(html)
        return html

    def _repr_html_(self) -> str:
        """Metrics and KPIs (against the baseline when one was set), for notebooks."""
        head = {
            "task": self.task,
            "model": self.model
            if self.model_version is None
            else f"{self.model} v{self.model_version}",
            "data": self.dataset,
            "rows": self.num_rows,
            "target": self.target,
            "threshold": self.threshold,
        }
        values = {**self.metrics, **self.kpis}
        compared: dict[str, Any] = {}
        if self.comparison is not None and len(self.comparison):
            compared = {row["metric"]: row for row in self.comparison.to_dict("records")}
        columns: tuple[str, ...] = ("metric", "value")
        if compared:
            columns = (*columns, "baseline", "difference", "")
        rows = []
        for name, value in values.items():
            row: list[Any] = [f"{name} ★" if name == self.primary_metric else name, value]
            if compared:
                other = compared.get(name)
                if other is None:
                    row += [None, None, ""]
                else:
                    improved = other["improved"]
                    mark = (
                        display.badge("better", "ok")
                        if improved
                        else display.badge("worse", "fail")
                        if improved is False and other["difference"] != 0
                        else ""
                    )
                    row += [other["baseline"], other["difference"], mark]
            rows.append(row)
        undefined = [(name, reason) for name, reason in self.undefined.items()]
        return display.block(
            f"Evaluation {self.name}",
            display.facts(head),
            display.table(columns, rows, limit=50),
            display.table(("undefined metric", "why"), undefined) if undefined else "",
            note="★ primary metric. Plots and slices: result.to_html(path).",
        )

    def summary(self) -> str:
        """A few lines for people: the defined metrics, KPIs and the baseline difference."""
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items() if not math.isnan(v))
        lines = [f"{self.task} on {self.num_rows:,} rows: {shown}"]
        if self.kpis:
            lines.append("KPIs: " + ", ".join(f"{k}={v:.4g}" for k, v in self.kpis.items()))
        for name, reason in self.undefined.items():
            lines.append(f"{name} undefined: {reason}")
        return "\n".join(lines)
