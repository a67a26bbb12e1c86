"""Rendering of the HTML reports: one self-contained page each (inline CSS and SVG)."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mloop.monitoring import _svg

if TYPE_CHECKING:
    import jinja2

    from mloop.monitoring.monitor import Monitor
    from mloop.monitoring.report import DriftReport, FeatureDrift
    from mloop.monitoring.window import Window


SEVERITY_CAP = 10.0  # the per-feature chart clips severities (a tiny p-value reads in the hundreds)
CHARTED_METRICS = ("roc_auc", "accuracy", "f1", "mae", "rmse", "r2")


def _slug(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", str(name)).strip("-").lower() or "column"
    return f"{text}-{hashlib.sha1(str(name).encode()).hexdigest()[:6]}"


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mloop.monitoring", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["slug"] = _slug
    env.filters["num"] = _num
    env.filters["when"] = _when
    return env


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def now_text() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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


def render_drift(report: DriftReport) -> str:
    template = environment().get_template("drift.html.j2")
    features = list(report.features.values())
    charts = {f.column: histogram_chart(f) for f in features}
    return template.render(r=report, features=features, charts=charts, created=now_text())


def _window_label(window: Window) -> str:
    start = datetime.fromtimestamp(window.start / 1000, tz=UTC)
    if window.end - window.start >= 86_400_000:
        return start.strftime("%Y-%m-%d")
    return start.strftime("%m-%d %H:%M")


def render_monitor(monitor: Monitor, windows: list[Window]) -> str:
    """The monitoring report of a model over ``windows``."""
    from mloop.monitoring import _store
    from mloop.monitoring.alerts import list_alerts

    labels = [_window_label(w) for w in windows]
    events = _store.loop_events(monitor.model)
    position = {w.id: i for i, w in enumerate(windows)}
    markers = [
        (position[e["window_id"]], f"{e['trigger']}: {e['status']} (v{e['candidate_version']})")
        for e in events
        if e.get("window_id") in position
    ]
    charts: dict[str, str] = {}
    if windows:
        charts["dataset"] = _svg.lines(
            labels,
            {
                "drifted share": [w.drift.dataset.share for w in windows],
                "importance-weighted score": [w.drift.dataset.score for w in windows],
            },
            threshold=windows[-1].drift.dataset.threshold,
            events=markers,
        )
        severity: dict[str, list[float | None]] = {}
        for i, w in enumerate(windows):
            for name, f in w.drift.features.items():
                severity.setdefault(name, [None] * len(windows))[i] = (
                    min(f.severity, SEVERITY_CAP) if f.score is not None else None
                )
        top = sorted(severity, key=lambda n: -max((v or 0.0) for v in severity[n]))[:8]
        charts["features"] = _svg.lines(
            labels, {name: severity[name] for name in top}, threshold=1.0, events=markers
        )
        metric_names = sorted({m for w in windows for m in w.performance})
        charted = [m for m in CHARTED_METRICS if m in metric_names]
        if charted:
            charts["performance"] = _svg.lines(
                labels,
                {m: [w.performance.get(m) for w in windows] for m in charted},
                events=markers,
            )
        kpi_names = sorted({k for w in windows for k in w.kpis})
        if kpi_names:
            charts["kpis"] = _svg.lines(
                labels, {k: [w.kpis.get(k) for w in windows] for k in kpi_names}, events=markers
            )
    else:
        metric_names = []
    latest = windows[-1] if windows else None
    latest_features = []
    histograms: dict[str, str] = {}
    if latest is not None:
        reports = [latest.drift, *([latest.output_drift] if latest.output_drift else [])]
        latest_features = [f for r in reports for f in r.features.values()]
        histograms = {f.column: histogram_chart(f) for f in latest_features}
    period = ""
    if windows:
        period = f"{_when(windows[0].start)} → {_when(windows[-1].end)} UTC"
    alerts = list_alerts(monitor.model)
    template = environment().get_template("monitor.html.j2")
    return template.render(
        model=monitor.model,
        windows=windows,
        labels=labels,
        versions=sorted({w.model_version for w in windows}),
        period=period,
        latest=latest,
        latest_period=labels[-1] if labels else "",
        latest_features=latest_features,
        histograms=histograms,
        charts=charts,
        metric_names=metric_names,
        baseline=latest.baseline if latest else {},
        alerts=alerts,
        firing=[a for a in alerts if a.status == "firing"],
        events=events,
        created=now_text(),
    )
