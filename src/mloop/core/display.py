"""Compact HTML for notebooks: the ``_repr_html_`` of results a user looks at.

Fragments, not pages: one ``<div>`` with inline styles (nothing leaks into the notebook's
own CSS), no scripts and nothing from the network. Every value passes through
:func:`html.escape`, so a column called ``<script>`` shows as text. Full reports stay the
``to_html()`` of each result.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["Markup", "badge", "block", "cell", "facts", "iframe", "percent", "table", "when"]

ROWS = 20  # rows a table shows before "... n more"
_TABLE = "border-collapse:collapse;font-size:12px;margin:4px 0"
_CELL = "border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top"
_COLOURS = {"ok": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e", "info": "#57606a"}


def cell(value: Any) -> str:
    """One value as escaped text: floats to 4 significant digits, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


class Markup(str):
    """HTML built here (a badge) that a table cell or a fact takes as it is."""


def percent(share: float) -> str:
    """A share as a percentage; a share too small for two decimals is ``<0.01%``, not 0.00%."""
    if 0 < share < 0.0001:
        return "<0.01%"
    return f"{share:.2%}"


def when(ms: int | None) -> str | None:
    """Epoch milliseconds as ``2026-12-08 01:47 UTC`` (None stays None)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def badge(text: str, tone: str = "info") -> Markup:
    """A small coloured label; ``tone`` is ok, warn, fail or info."""
    colour = _COLOURS.get(tone, _COLOURS["info"])
    return Markup(
        f'<span style="background:{colour};color:#fff;border-radius:3px;padding:0 5px;'
        f'font-size:11px">{html.escape(text)}</span>'
    )


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = ROWS) -> str:
    """An escaped table of ``rows`` (the first ``limit``, then a line saying how many more)."""
    head = "".join(f'<th style="{_CELL};background:#f6f8fa">{cell(c)}</th>' for c in columns)
    body: list[str] = []
    hidden = 0
    for index, row in enumerate(rows):
        if index >= limit:
            hidden += 1
            continue
        body.append("<tr>" + "".join(f'<td style="{_CELL}">{_raw(v)}</td>' for v in row) + "</tr>")
    more = f'<div style="color:#57606a">… {hidden:,} more</div>' if hidden else ""
    return f'<table style="{_TABLE}"><tr>{head}</tr>{"".join(body)}</table>{more}'


def _raw(value: Any) -> str:
    return str(value) if isinstance(value, Markup) else cell(value)


def facts(values: Mapping[str, Any]) -> str:
    """``name: value`` pairs on one line."""
    return " · ".join(f"<b>{cell(k)}</b>: {_raw(v)}" for k, v in values.items() if v is not None)


def block(title: str, *parts: str, note: str = "") -> str:
    """The fragment: a bold title, the parts (already HTML), an optional grey note."""
    footer = f'<div style="color:#57606a;margin-top:4px">{html.escape(note)}</div>' if note else ""
    body = "".join(f'<div style="margin:4px 0">{part}</div>' for part in parts if part)
    return (
        '<div style="font-family:system-ui,sans-serif;font-size:13px;line-height:1.4">'
        f'<div style="font-weight:600;font-size:14px">{html.escape(title)}</div>{body}{footer}</div>'
    )


def iframe(page: str, height: int = 600) -> str:
    """A whole HTML page (a report) shown in a sandboxed frame: no scripts run in it."""
    return (
        f'<iframe sandbox="" srcdoc="{html.escape(page, quote=True)}" '
        f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe>'
    )
