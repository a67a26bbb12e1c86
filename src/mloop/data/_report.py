"""The HTML report of a validation: one self-contained page (inline CSS, no external links)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any


def _slug(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "check"
    return f"{text}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def render(result: Any) -> str:
    """The report of ``result`` (a ValidationResult, which renders itself through this module
    and so is typed ``Any`` here) as HTML."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mloop.data", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["slug"] = _slug
    template = environment.get_template("validation.html.j2")
    created = datetime.fromtimestamp(result.created_at / 1000, tz=UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )
    return template.render(
        r=result,
        created=created,
        errors=len(result.errors),
        warnings=len(result.warnings),
        quarantined=None if result.quarantined is None else len(result.quarantined),
    )
