"""OTLP export of mloop's spans, with message content PII-redacted before it leaves.

The exporter runs in the batch processor's thread, so redaction costs the caller nothing.
A span whose route allows PII (``mloop.pii.allowed``) is exported as captured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from mloop.genai import pii
from mloop.genai.tracing.rows import CONTENT_ATTRIBUTES

__all__ = ["RedactingExporter", "redacted_span"]


class RedactingExporter(SpanExporter):
    """Wraps an exporter (the OTLP one) and hands it spans with content redacted."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([redacted_span(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def redacted_span(span: ReadableSpan) -> ReadableSpan:
    """``span`` itself when it holds no content to redact, else a copy with it redacted."""
    attributes = span.attributes or {}
    if attributes.get("mloop.pii.allowed") or not any(k in attributes for k in CONTENT_ATTRIBUTES):
        return span
    cleaned: dict[str, Any] = dict(attributes)
    for key in CONTENT_ATTRIBUTES:
        value = cleaned.get(key)
        if isinstance(value, str) and value:
            cleaned[key] = pii.redact(value)[0]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=cleaned,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
