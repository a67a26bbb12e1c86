"""Small inline SVG charts for the HTML reports (no JavaScript, no external files).

Two shapes cover the reports: paired bars (reference versus current shares per bin)
and lines over time (a score per window, with a threshold and event markers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

COLORS = ("#5472d3", "#ef6c00", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#546e7a")
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _fmt(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.3g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    width: int = 520,
    height: int = 180,
) -> str:
    """Grouped bars: one group per label, one bar per series (values are shares)."""
    left, bottom, top = 44, 34, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max((v for values in series.values() for v in values), default=0.0) or 1.0
    groups = max(len(labels), 1)
    slot = plot_w / groups
    bar_w = max(slot * 0.8 / max(len(series), 1), 1.0)
    parts = [_frame(width, height, left, top, plot_w, plot_h, peak)]
    for s, (name, values) in enumerate(series.items()):
        color = COLORS[s % len(COLORS)]
        for i, value in enumerate(values):
            h = plot_h * value / peak
            x = left + i * slot + slot * 0.1 + s * bar_w
            y = top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(name)} · {escape(str(labels[i]))}: {_fmt(value)}</title></rect>"
            )
    if labels:
        longest = max(len(_short(str(label))) for label in labels)
        step = max(1, math.ceil(len(labels) * (longest * 6.5 + 8) / plot_w))
        for i in range(0, len(labels), step):
            text = escape(_short(str(labels[i])))
            x = left + (i + 0.5) * slot
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {_FONT} fill="#5b6670">{text}</text>'
            )
    parts.append(_legend(list(series), left, height - 6))
    return _svg(width, height, parts)


def lines(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    threshold: float | None = None,
    events: Sequence[tuple[int, str]] = (),
    width: int = 720,
    height: int = 200,
) -> str:
    """Lines over windows; ``threshold`` draws a dashed line, ``events`` vertical markers."""
    left, bottom, top = 52, 34, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    values = [v for vs in series.values() for v in vs if v is not None and math.isfinite(v)]
    if threshold is not None:
        values.append(threshold)
    low = min(0.0, min(values, default=0.0))
    peak = max(values, default=1.0)
    span = (peak - low) or 1.0
    count = max(len(x_labels), 1)

    def x_at(i: int) -> float:
        return left + (plot_w * (i + 0.5) / count)

    def y_at(v: float) -> float:
        return top + plot_h - plot_h * (v - low) / span

    parts = [_frame(width, height, left, top, plot_w, plot_h, peak, low)]
    if threshold is not None:
        y = y_at(threshold)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c62828" stroke-dasharray="4 3"/>'
        )
    for i, label in events:
        x = x_at(i)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#8e24aa" stroke-width="1.5">'
            f"<title>{escape(label)}</title></line>"
        )
    for s, (name, vs) in enumerate(series.items()):
        color = COLORS[s % len(COLORS)]
        points = [
            (x_at(i), y_at(v)) for i, v in enumerate(vs) if v is not None and math.isfinite(v)
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        for (x, y), (i, v) in zip(
            points,
            [(i, v) for i, v in enumerate(vs) if v is not None and math.isfinite(v)],
            strict=True,
        ):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(name)} · '
                f"{escape(str(x_labels[i]))}: {_fmt(v)}</title></circle>"
            )
    step = max(1, math.ceil(len(x_labels) / 8))
    for i in range(0, len(x_labels), step):
        parts.append(
            f'<text x="{x_at(i):.1f}" y="{top + plot_h + 14}" text-anchor="middle" {_FONT} fill="#5b6670">'
            f"{escape(_short(str(x_labels[i])))}</text>"
        )
    parts.append(_legend(list(series), left, height - 6))
    return _svg(width, height, parts)


def _frame(
    width: int,
    height: int,
    left: int,
    top: int,
    plot_w: int,
    plot_h: int,
    peak: float,
    low: float = 0.0,
) -> str:
    return (
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#b0bec5"/>'
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#b0bec5"/>'
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" {_FONT} fill="#5b6670">{_fmt(peak)}</text>'
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" {_FONT} fill="#5b6670">{_fmt(low)}</text>'
    )


def _legend(names: list[str], x: int, y: int) -> str:
    parts, offset = [], 0
    for s, name in enumerate(names):
        color = COLORS[s % len(COLORS)]
        parts.append(
            f'<rect x="{x + offset}" y="{y - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + offset + 14}" y="{y}" {_FONT} fill="#1d232a">{escape(name)}</text>'
        )
        offset += 24 + 7 * len(name)
    return "".join(parts)


def _short(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(width: int, height: int, parts: list[str]) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">{body}</svg>'
    )
