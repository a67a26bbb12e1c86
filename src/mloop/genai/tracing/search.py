"""Searching stored spans by route, user, status, latency, cost, prompt version, time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mloop.core.errors import InvalidInput
from mloop.genai.tracing.writer import writer
from mloop.store import get_store
from mloop.store.schema.genai import Span

__all__ = ["TraceSpan", "search_traces"]

_STATUSES = ("ok", "error")


@dataclass(frozen=True)
class TraceSpan:
    """One stored span (``attributes`` holds every attribute it was recorded with)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service: str
    start_ms: float
    latency_ms: float
    status: str
    error: str | None
    operation: str | None
    provider: str | None
    model: str | None
    route: str | None
    user: str | None
    workspace: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    prompt_name: str | None
    prompt_version: int | None
    attributes: dict[str, Any]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def search_traces(
    *,
    route: str | None = None,
    user: str | None = None,
    status: str | None = None,
    model: str | None = None,
    kind: str | None = None,
    prompt: str | None = None,
    trace_id: str | None = None,
    min_latency_ms: float | None = None,
    max_latency_ms: float | None = None,
    min_cost: float | None = None,
    since: datetime | float | None = None,
    until: datetime | float | None = None,
    limit: int = 100,
) -> list[TraceSpan]:
    """Stored spans matching every filter given, newest first.

    ``prompt`` is ``"name"`` (any version), ``"name@3"`` or ``"name/3"``; ``since`` and
    ``until`` are datetimes or epoch seconds. Spans still queued are written first.

    >>> slow_errors = search_traces(route="chat", status="error", min_latency_ms=500)
    """
    if status is not None and status not in _STATUSES:
        raise InvalidInput(f"status = {status!r}; use one of {', '.join(_STATUSES)}.")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit = {limit!r}; use a positive number of spans.")
    writer.flush()
    query = select(Span).order_by(Span.start_ns.desc()).limit(limit)
    for column, value in (
        (Span.route, route),
        (Span.user, user),
        (Span.status, status),
        (Span.model, model),
        (Span.kind, kind),
        (Span.trace_id, trace_id.lower() if trace_id else None),
    ):
        if value is not None:
            query = query.where(column == value)
    if prompt is not None:
        name, version = _prompt_filter(prompt)
        query = query.where(Span.prompt_name == name)
        if version is not None:
            query = query.where(Span.prompt_version == version)
    if min_latency_ms is not None:
        query = query.where(Span.latency_ms >= min_latency_ms)
    if max_latency_ms is not None:
        query = query.where(Span.latency_ms <= max_latency_ms)
    if min_cost is not None:
        query = query.where(Span.cost >= min_cost)
    if since is not None:
        query = query.where(Span.start_ns >= _ns(since, "since"))
    if until is not None:
        query = query.where(Span.start_ns < _ns(until, "until"))
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    return [_entity(row) for row in rows]


def _prompt_filter(prompt: str) -> tuple[str, int | None]:
    text = prompt.removeprefix("prompts:/")
    for separator in ("@", "/"):
        if separator in text:
            name, _, version = text.rpartition(separator)
            if not version.isdigit() or not name:
                raise InvalidInput(
                    f"prompt = {prompt!r}; use 'name', 'name@3' or 'name/3' (a version number)."
                )
            return name, int(version)
    return text, None


def _ns(value: datetime | float, what: str) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1e9)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1e9)
    raise InvalidInput(f"{what} = {value!r}; use a datetime or epoch seconds.")


def _entity(row: Any) -> TraceSpan:
    return TraceSpan(
        trace_id=row.trace_id,
        span_id=row.span_id,
        parent_span_id=row.parent_span_id,
        name=row.name,
        kind=row.kind,
        service=row.service,
        start_ms=row.start_ns / 1e6,
        latency_ms=row.latency_ms,
        status=row.status,
        error=row.error,
        operation=row.operation,
        provider=row.provider,
        model=row.model,
        route=row.route,
        user=row.user,
        workspace=row.workspace,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost=row.cost,
        prompt_name=row.prompt_name,
        prompt_version=row.prompt_version,
        attributes=json.loads(row.attributes),
        source=row.source,
    )
