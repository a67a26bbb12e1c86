"""Drift, metrics and alerts of the latest windows as Prometheus gauges.

The serving app registers the collector once; every scrape then reports the newest stored
window of each model version (read from the metadata store, cached for a few seconds):

>>> from prometheus_client import CollectorRegistry
>>> registry = CollectorRegistry()
>>> monitoring.prometheus_gauges(registry, models=["delays"])

Gauges: ``mloop_drift_share``, ``mloop_drift_score``, ``mloop_drift_detected``,
``mloop_feature_drift_score`` and ``mloop_feature_drift_severity`` (per feature and the
prediction), ``mloop_feature_drifted``, ``mloop_model_metric``, ``mloop_model_kpi``,
``mloop_window_rows``, ``mloop_window_end_timestamp_seconds`` and ``mloop_alerts_firing``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mloop.monitoring import _store
from mloop.monitoring.alerts import list_alerts
from mloop.store import get_store
from mloop.store.schema.monitoring import MonitoringWindow as Row

if TYPE_CHECKING:
    from mloop.monitoring.window import Window

__all__ = ["DriftCollector", "prometheus_gauges"]

_GAUGES = {
    "mloop_drift_share": (
        "Share of the model's features that drifted in its latest window.",
        ["model", "version"],
    ),
    "mloop_drift_score": (
        "Importance-weighted share of drifted features in the latest window.",
        ["model", "version"],
    ),
    "mloop_drift_detected": ("1 when the latest window shows dataset drift.", ["model", "version"]),
    "mloop_feature_drift_score": (
        "Drift score of a feature (or prediction) in the latest window; see 'statistic'.",
        ["model", "version", "feature", "statistic"],
    ),
    "mloop_feature_drift_severity": (
        "Drift score relative to its threshold (1 = threshold) in the latest window.",
        ["model", "version", "feature"],
    ),
    "mloop_feature_drifted": (
        "1 when the feature drifted in the latest window.",
        ["model", "version", "feature"],
    ),
    "mloop_model_metric": (
        "Model metric on the labelled rows of the latest window.",
        ["model", "version", "metric"],
    ),
    "mloop_model_kpi": ("Business KPI of the latest window.", ["model", "version", "kpi"]),
    "mloop_window_rows": ("Rows in the latest window.", ["model", "version"]),
    "mloop_window_end_timestamp_seconds": (
        "End of the latest window (Unix time).",
        ["model", "version"],
    ),
    "mloop_alerts_firing": ("1 for each alert currently firing.", ["model", "rule", "severity"]),
}


class DriftCollector:
    """A Prometheus collector reading the newest windows of some (or all) models."""

    def __init__(self, models: Sequence[str] | None = None, refresh_seconds: float = 15.0) -> None:
        self.models = list(models) if models is not None else None
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Any]] | None = None

    def describe(self) -> list[Any]:
        return list(_families().values())

    def collect(self) -> Iterator[Any]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.refresh_seconds:
                self._cached = (now, self._read())
            families = self._cached[1]
        yield from families

    def _read(self) -> list[Any]:
        families = _families()
        for window in _latest_windows(self.models):
            _add_window(families, window)
        for alert in list_alerts(status="firing", limit=1000):
            if self.models is None or alert.model_name in self.models:
                families["mloop_alerts_firing"].add_metric(
                    [alert.model_name, alert.rule, alert.severity], 1.0
                )
        return list(families.values())


def _families() -> dict[str, Any]:
    from prometheus_client.core import GaugeMetricFamily

    return {
        name: GaugeMetricFamily(name, text, labels=labels)
        for name, (text, labels) in _GAUGES.items()
    }


def _add_window(families: dict[str, Any], window: Window) -> None:
    key = [window.model_name, window.model_version]
    dataset = window.drift.dataset
    families["mloop_drift_share"].add_metric(key, dataset.share)
    families["mloop_drift_score"].add_metric(key, dataset.score)
    families["mloop_drift_detected"].add_metric(key, float(dataset.drifted))
    families["mloop_window_rows"].add_metric(key, float(window.num_rows))
    families["mloop_window_end_timestamp_seconds"].add_metric(key, window.end / 1000)
    for report in (window.drift, window.output_drift):
        if report is None:
            continue
        for name, feature in report.features.items():
            if feature.score is None:
                continue
            families["mloop_feature_drift_score"].add_metric(
                [*key, name, feature.statistic or ""], float(feature.score)
            )
            families["mloop_feature_drift_severity"].add_metric([*key, name], feature.severity)
            families["mloop_feature_drifted"].add_metric([*key, name], float(bool(feature.drifted)))
    for metric, value in window.performance.items():
        families["mloop_model_metric"].add_metric([*key, metric], float(value))
    for kpi, number in window.kpis.items():
        if number is not None:
            families["mloop_model_kpi"].add_metric([*key, kpi], float(number))


def _latest_windows(models: Sequence[str] | None) -> list[Window]:
    from sqlalchemy import func, select

    query = select(Row.model_name, Row.model_version, func.max(Row.start_at)).group_by(
        Row.model_name, Row.model_version
    )
    if models is not None:
        query = query.where(Row.model_name.in_(list(models)))
    with get_store().read() as conn:
        newest = conn.execute(query).all()
    windows = []
    for model, version, start in newest:
        found = _store.list_windows(model, start=start, end=start + 1, version=version, limit=1)
        windows.extend(found)
    return windows


def prometheus_gauges(
    registry: Any = None, models: Sequence[str] | None = None, refresh_seconds: float = 15.0
) -> DriftCollector:
    """Register the drift gauges in ``registry`` (the default Prometheus registry when None).

    Example:
        >>> collector = prometheus_gauges(app_registry, models=["delays"])
    """
    from prometheus_client import REGISTRY

    collector = DriftCollector(models, refresh_seconds)
    (registry if registry is not None else REGISTRY).register(collector)
    return collector
