"""How every command prints: rich tables for people, ``--json`` for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True)


def emit_json(value: Any) -> None:
    """Write ``value`` as JSON to stdout (no colour, no wrapping)."""
    sys.stdout.write(json.dumps(value, indent=2, default=str, allow_nan=True) + "\n")


def table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    title: str | None = None,
    as_json: bool = False,
) -> None:
    """Print ``rows`` as a table with ``columns`` (or as a JSON list with ``as_json``)."""
    rows = list(rows)
    if as_json:
        emit_json([{c: row.get(c) for c in columns} for row in rows])
        return
    view = Table(title=title, header_style="bold")
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*(format_value(row.get(c)) for c in columns))
    console.print(view)
    if not rows:
        console.print("[dim](none)[/dim]")


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_ms(ms: int | None) -> str:
    """Epoch milliseconds as a short UTC time."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
