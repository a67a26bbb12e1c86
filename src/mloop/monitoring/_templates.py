"""The Jinja environment of the HTML pages (inline CSS and SVG, self-contained) and its filters."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


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
    env.filters["when"] = when
    return env


def when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def now_text() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
