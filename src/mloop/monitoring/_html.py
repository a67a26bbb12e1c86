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

    from mloop.monitoring.report import DriftReport, FeatureDrift


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
    return env


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
