"""Spans as rows of ``genai_spans``: from mloop's tracer and from OTLP requests.

The indexed columns (route, user, status, latency, cost, prompt version, tokens) are
read from the GenAI semantic-convention attributes and mloop's own (``mloop.*``); every
attribute is kept as JSON. Message content is PII-redacted by :func:`prepare` in the
writer thread, unless the span says the route allows it (``mloop.pii.allowed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from mloop.genai import pii

__all__ = ["CONTENT_ATTRIBUTES", "prepare", "row_from_attributes"]

CONTENT_ATTRIBUTES = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.prompt",
    "gen_ai.completion",
    "mloop.inputs",
    "mloop.output",
)
_KIND_OF_OPERATION = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "retrieval": "retrieval",
}


def row_from_attributes(
    *,
    trace_id: int,
    span_id: int,
    parent_span_id: int | None,
    name: str,
    start_ns: int,
    end_ns: int,
    error: bool,
    error_text: str | None,
    attributes: Mapping[str, Any],
    service: str,
    source: str,
) -> dict[str, Any]:
    """One ``genai_spans`` row; ``attributes`` stays a dict until :func:`prepare`."""
    get = attributes.get
    operation = get("gen_ai.operation.name")
    kind = get("mloop.span.kind") or _KIND_OF_OPERATION.get(str(operation), "span")
    prompt_version = get("mloop.prompt.version")
    return {
        "trace_id": f"{trace_id:032x}",
        "span_id": f"{span_id:016x}",
        "parent_span_id": None if not parent_span_id else f"{parent_span_id:016x}",
        "name": name[:512],
        "kind": str(kind)[:32],
        "service": service[:256],
        "start_ns": start_ns,
        "latency_ms": max(0, end_ns - start_ns) / 1e6,
        "status": "error" if error else "ok",
        "error": error_text or get("error.type"),
        "operation": _text(operation),
        "provider": _text(get("gen_ai.provider.name") or get("gen_ai.system")),
        "model": _text(get("gen_ai.request.model") or get("gen_ai.response.model")),
        "route": _text(get("mloop.route")),
        "user": _text(get("mloop.user") or get("user.id") or get("enduser.id")),
        "workspace": _text(get("mloop.workspace")),
        "input_tokens": _int(get("gen_ai.usage.input_tokens", get("gen_ai.usage.prompt_tokens"))),
        "output_tokens": _int(
            get("gen_ai.usage.output_tokens", get("gen_ai.usage.completion_tokens"))
        ),
        "cost": _float(get("mloop.cost")),
        "prompt_name": _text(get("mloop.prompt.name")),
        "prompt_version": _int(prompt_version),
        "attributes": dict(attributes),
        "source": source,
    }


def prepare(row: dict[str, Any]) -> dict[str, Any]:
    """Redact PII in the content attributes (unless allowed) and serialise the attributes."""
    attributes = row["attributes"]
    if isinstance(attributes, dict):
        if not attributes.get("mloop.pii.allowed"):
            for key in CONTENT_ATTRIBUTES:
                value = attributes.get(key)
                if isinstance(value, str) and value:
                    attributes[key] = pii.redact(value)[0]
        row["attributes"] = orjson.dumps(attributes, default=_jsonable).decode()
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:256]


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
