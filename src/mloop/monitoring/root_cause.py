"""Root cause of a bad window: features ranked by drift x importance, slices whose accuracy fell.

>>> cause = window.root_cause
>>> cause["features"][0]
{'column': 'temp', 'blame': 3.1, 'severity': 5.2, 'importance': 0.6, 'drifted': True, ...}
>>> cause["slices"][0]
{'column': 'origin', 'value': 'EWR', 'rows': 812, 'reference': 0.83, 'current': 0.71, 'drop': 0.12}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.evaluation.metrics import GREATER_IS_BETTER

if TYPE_CHECKING:
    from mloop.monitoring.report import DriftReport

__all__ = ["blame_features", "root_cause", "worst_slices"]


def blame_features(report: DriftReport, top: int = 5) -> list[dict[str, Any]]:
    """Compared features, most to blame first: drift severity times importance.

    Severity is 1 at the drift threshold (see :attr:`FeatureDrift.severity`); without
    importance every feature weighs 1.
    """
    rows = []
    for feature in report.ranked()[:top]:
        weight = feature.importance if feature.importance is not None else 1.0
        rows.append(
            {
                "column": feature.column,
                "blame": feature.severity * weight,
                "severity": feature.severity,
                "importance": feature.importance,
                "statistic": feature.statistic,
                "score": feature.score,
                "drifted": feature.drifted,
            }
        )
    return rows


def worst_slices(
    current: list[dict[str, Any]], reference: list[dict[str, Any]], metric: str, top: int = 5
) -> list[dict[str, Any]]:
    """Slices (feature value or quartile) whose ``metric`` fell most against the reference.

    ``current`` and ``reference`` are rows of :func:`mloop.monitoring.performance.slice_metrics`;
    a slice missing from the reference is compared with nothing and left out.
    """
    before = {(row["column"], row["value"]): row[metric] for row in reference if metric in row}
    higher_is_better = GREATER_IS_BETTER.get(metric, True)
    found = []
    for row in current:
        key = (row["column"], row["value"])
        if key not in before or metric not in row:
            continue
        drop = before[key] - row[metric] if higher_is_better else row[metric] - before[key]
        if drop > 0:
            found.append(
                {
                    "column": row["column"],
                    "value": row["value"],
                    "rows": row["rows"],
                    "metric": metric,
                    "reference": before[key],
                    "current": row[metric],
                    "drop": drop,
                }
            )
    found.sort(key=lambda r: (-r["drop"], -r["rows"]))
    return found[:top]


def root_cause(
    report: DriftReport,
    current_slices: list[dict[str, Any]] | None,
    reference_slices: list[dict[str, Any]] | None,
    metric: str,
    top: int = 5,
) -> dict[str, Any]:
    """Both rankings of a window (slices only once it has labels)."""
    slices = (
        worst_slices(current_slices, reference_slices, metric, top)
        if current_slices and reference_slices
        else []
    )
    return {"features": blame_features(report, top), "slices": slices, "slice_metric": metric}
