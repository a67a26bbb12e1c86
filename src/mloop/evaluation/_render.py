"""HTML and Markdown rendering of evaluation results and model cards (Jinja2).

Numbers are formatted here, once, so the templates only lay them out. Plots are PNGs
embedded as base64 data URIs: a report opens offline, with no link to fetch. Results are
typed ``Any``: ``EvaluationResult.to_html`` renders through this module, which sits below it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.evaluation.metrics import FAIRNESS_SUMMARIES
from mloop.evaluation.plots import png_base64

if TYPE_CHECKING:
    import pandas as pd

TEMPLATES = Path(__file__).parent / "templates"
SLICE_ROWS = 30


def environment(markdown: bool = False) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=not markdown,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def css() -> str:
    return (TEMPLATES / "_style.css").read_text()


def number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "undefined"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def when(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def table(columns: list[str], rows: list[list[Any]], empty: str = "none") -> dict[str, Any]:
    return {
        "columns": columns,
        "rows": [[number(c) if not isinstance(c, str) else c for c in row] for row in rows],
        "empty": empty,
    }


def frame_table(
    frame: pd.DataFrame | None, limit: int | None = None, empty: str = "none"
) -> dict[str, Any]:
    if frame is None or len(frame) == 0:
        return table([], [], empty)
    shown = frame if limit is None else frame.head(limit)
    rows = [[_cell(v) for v in row] for row in shown.itertuples(index=False)]
    return table([str(c) for c in shown.columns], rows, empty)


def _cell(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    return value


def images(figures: dict[str, Any]) -> list[dict[str, str]]:
    titles = {
        "roc_curve.png": "ROC curve",
        "pr_curve.png": "Precision-recall curve",
        "calibration.png": "Calibration",
        "confusion_matrix.png": "Confusion matrix",
        "predicted_vs_actual.png": "Predicted against actual",
        "slices.png": "Worst slices",
        "importance.png": "Feature importance",
    }
    return [{"title": titles.get(k, k), "data": png_base64(f)} for k, f in figures.items()]


def fairness_context(f: Any) -> dict[str, Any]:
    summary = table(
        ["summary", "value", "note"],
        [[s, getattr(f, s), f.undefined.get(s, "")] for s in FAIRNESS_SUMMARIES],
    )
    return {
        "name": f.sensitive,
        "summary": summary,
        "groups": frame_table(f.by_group),
        "notes": f.notes,
    }


def evaluation_context(result: Any, with_images: bool = True) -> dict[str, Any]:
    metrics = table(
        ["metric", "value", "note"],
        [[k, v, result.undefined.get(k, "")] for k, v in result.metrics.items()],
    )
    kpis = table(
        ["KPI", "value", "better"],
        [
            [k, v, "higher" if result.kpi_greater_is_better.get(k, True) else "lower"]
            for k, v in result.kpis.items()
        ],
    )
    comparison = frame_table(result.comparison)
    slices = frame_table(
        result.slices, SLICE_ROWS, "no slices were asked for (evaluate(..., slices=[...]))"
    )
    importance = (
        frame_table(result.importance.importances, 30)
        if result.importance is not None
        else table([], [])
    )
    return {
        "id": result.id,
        "task": result.task,
        "model": result.model,
        "dataset": result.dataset,
        "rows": f"{result.num_rows:,}",
        "threshold": result.threshold,
        "pos_label": None if result.pos_label is None else str(result.pos_label),
        "created": when(result.created_at),
        "metrics": metrics,
        "kpis": kpis,
        "comparison": comparison,
        "baseline": (result.baseline or {}).get("model", ""),
        "slices": slices,
        "primary": result.primary_metric or "",
        "fairness": [fairness_context(f) for f in result.fairness.values()],
        "importance": importance,
        "importance_method": "" if result.importance is None else result.importance.method,
        "images": images(result.figures()) if with_images else [],
    }


def render_evaluation(result: Any) -> str:
    template = environment().get_template("evaluation.html.j2")
    return str(template.render(ev=evaluation_context(result), css=css()))
