"""What a window adds to its drift: the data suite's verdict, metrics, KPIs and root cause."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mloop.data import Suite
from mloop.evaluation import scoring
from mloop.monitoring._frames import LABEL
from mloop.monitoring.performance import call_kpi, slice_metric, slice_metrics
from mloop.monitoring.root_cause import root_cause

if TYPE_CHECKING:
    import pandas as pd

    from mloop.monitoring.reference import Reference
    from mloop.monitoring.report import DriftReport
    from mloop.monitoring.window import Window


def quality(
    suite: Any, frame: pd.DataFrame, features: list[str], report: DriftReport
) -> dict[str, Any]:
    """Drift findings plus the verdict of the model's data suite on the window's features."""
    found: dict[str, Any] = {
        "findings": [
            {"column": f.column, "kind": f.kind, "message": f.message} for f in report.findings
        ],
        "failed": [],
    }
    if suite is None or frame.empty:
        return found

    suite = suite if isinstance(suite, Suite) else Suite.load(str(suite))
    result = suite.validate(frame[[c for c in features if c in frame.columns]], save=False)
    found.update(
        suite=suite.name,
        success=result.success,
        failed=[c.describe() for c in result.errors],
        warnings=[c.describe() for c in result.warnings],
    )
    return found


def score(
    window: Window,
    frame: pd.DataFrame,
    reference: Reference,
    kpis: Mapping[str, Callable[..., Any]],
    min_slice_rows: int,
) -> None:
    """Metrics, KPIs and root cause of the window from its labelled rows (in place)."""
    labelled = None
    if LABEL in frame.columns and "prediction" in frame.columns:
        labelled = frame[frame[LABEL].notna()]
    window.labelled_rows = 0 if labelled is None else len(labelled)
    if labelled is not None and len(labelled):
        window.performance = metrics_of(labelled, reference.task, reference.classes)
    window.kpis = {name: call_kpi(name, fn, frame, labelled) for name, fn in kpis.items()}
    current = (
        slice_metrics(
            labelled,
            sorted({s["column"] for s in reference.slices}),
            reference.task,
            reference.slice_edges,
            min_slice_rows,
        )
        if labelled is not None and len(labelled) and reference.slices
        else None
    )
    window.root_cause = root_cause(
        window.drift, current, reference.slices, slice_metric(reference.task)
    )


def metrics_of(rows: pd.DataFrame, task: str, classes: list[Any] | None) -> dict[str, float]:
    """:func:`mloop.evaluation.score` of logged rows: ``label`` against ``prediction``, with the
    logged probabilities (``proba`` of a binary model, ``proba_<class>`` of a multiclass one)."""
    return scoring.score(
        rows[LABEL],
        rows["prediction"],
        probabilities(rows, classes),
        task=task,
        classes=classes or None,
    )


def probabilities(rows: pd.DataFrame, classes: list[Any] | None) -> Any:
    """The logged probabilities in the order of ``classes``, or None when they are not logged."""
    if "proba" in rows.columns:
        return rows["proba"].to_numpy(dtype=float)
    if classes and len(classes) > 2:
        names = [f"proba_{c}" for c in classes]
        if all(n in rows.columns for n in names):
            return rows[names].to_numpy(dtype=float)
    return None


def latency(frame: pd.DataFrame) -> dict[str, float]:
    """p50, p95 and p99 of the logged latency (milliseconds)."""
    if "latency_ms" not in frame.columns or frame.empty:
        return {}
    values = frame["latency_ms"].dropna()
    if values.empty:
        return {}
    return {f"p{q}": float(values.quantile(q / 100)) for q in (50, 95, 99)}
