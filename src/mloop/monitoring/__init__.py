"""Monitoring: drift, windows of the prediction log, accuracy with delayed labels, alerts.

>>> from mloop import monitoring
>>> report = monitoring.drift(train_df, live_df)
>>> report.features["temp"].drifted, report.dataset.share
>>> report.to_html("drift.html")
"""

from __future__ import annotations

from mloop.monitoring.defaults import DriftDefaults, defaults
from mloop.monitoring.drift import drift
from mloop.monitoring.report import DatasetDrift, DriftReport, FeatureDrift, Finding

__all__ = [
    "DatasetDrift",
    "DriftDefaults",
    "DriftReport",
    "FeatureDrift",
    "Finding",
    "defaults",
    "drift",
]
