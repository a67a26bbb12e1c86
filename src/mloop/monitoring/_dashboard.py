"""The monitoring page of a model: drift over time, histograms, metrics, alerts, retraining."""

from __future__ import annotations

from datetime import UTC, datetime

from mloop.monitoring import _store, _svg
from mloop.monitoring._templates import environment, now_text, when
from mloop.monitoring.alerts import list_alerts
from mloop.monitoring.report import histogram_chart
from mloop.monitoring.window import Window

SEVERITY_CAP = 10.0  # the per-feature chart clips severities (a tiny p-value reads in the hundreds)
CHARTED_METRICS = ("roc_auc", "accuracy", "f1", "mae", "rmse", "r2")


def _window_label(window: Window) -> str:
    start = datetime.fromtimestamp(window.start / 1000, tz=UTC)
    if window.end - window.start >= 86_400_000:
        return start.strftime("%Y-%m-%d")
    return start.strftime("%m-%d %H:%M")


def render_monitor(model: str, windows: list[Window]) -> str:
    """The monitoring report of a model over ``windows``."""
    labels = [_window_label(w) for w in windows]
    events = _store.loop_events(model)
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
        period = f"{when(windows[0].start)} → {when(windows[-1].end)} UTC"
    alerts = list_alerts(model)
    template = environment().get_template("monitor.html.j2")
    return template.render(
        model=model,
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
