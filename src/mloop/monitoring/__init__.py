"""Monitoring: drift, windows of the prediction log, accuracy with late labels, alerts.

>>> from mloop import monitoring
>>> report = monitoring.drift(train_df, live_df)              # DataFrames or stored profiles
>>> report.features["temp"].drifted, report.dataset.share, report.to_html("drift.html")

>>> monitoring.set_reference("delays", 3, train_df, target="delayed")
>>> monitor = monitoring.Monitor("delays", alerts=[monitoring.AlertRule("drift", "drift.share", 0.3)])
>>> monitor.run(start="2026-01-01", end="2026-02-01", every="1D")   # windows of the prediction log
>>> monitor.refresh_labels(); monitor.report("monitoring.html")

The defaults (which statistic for which column, thresholds) are in
:mod:`mloop.monitoring.defaults`.
"""

from __future__ import annotations

from typing import Any

from mloop.monitoring import _store
from mloop.monitoring._frames import to_ms
from mloop.monitoring._names import check_model
from mloop.monitoring.alerts import Alert, AlertRule, alert_history, list_alerts
from mloop.monitoring.defaults import DriftDefaults, defaults
from mloop.monitoring.drift import drift
from mloop.monitoring.monitor import Monitor
from mloop.monitoring.notifiers import FileNotifier, LogNotifier, WebhookNotifier
from mloop.monitoring.performance import performance_of
from mloop.monitoring.prometheus import prometheus_gauges
from mloop.monitoring.reference import Reference
from mloop.monitoring.references import get_reference, model_outputs, set_reference
from mloop.monitoring.report import DatasetDrift, DriftReport, FeatureDrift, Finding
from mloop.monitoring.window import Window


def get_window(window_id: str) -> Window:
    """A stored window by id.

    Raises:
        NotFound: no window has this id.
    """
    return _store.get_window(window_id)


def list_windows(
    model: str,
    start: Any = None,
    end: Any = None,
    version: int | str | None = None,
    limit: int | None = None,
) -> list[Window]:
    """Stored windows of ``model`` starting in ``[start, end)``, oldest first.

    Times are datetimes, ISO strings or epoch milliseconds; ``limit`` keeps the newest.

    Raises:
        NotFound: ``model`` is not registered (the message suggests the nearest names).
    """
    found = _store.list_windows(
        model,
        None if start is None else to_ms(start),
        None if end is None else to_ms(end),
        None if version is None else str(version),
        limit=limit,
        newest=limit is not None,
    )
    if not found:
        check_model(model)  # nothing found: an unregistered name is a typo, not "no windows"
    return found


__all__ = [
    "Alert",
    "AlertRule",
    "DatasetDrift",
    "DriftDefaults",
    "DriftReport",
    "FeatureDrift",
    "FileNotifier",
    "Finding",
    "LogNotifier",
    "Monitor",
    "Reference",
    "WebhookNotifier",
    "Window",
    "alert_history",
    "defaults",
    "drift",
    "get_reference",
    "get_window",
    "list_alerts",
    "list_windows",
    "model_outputs",
    "performance_of",
    "prometheus_gauges",
    "set_reference",
]
