"""Tracing of language-model applications: OpenTelemetry spans stored and searched by mloop.

See :mod:`.spans` (``@trace``, ``span``, ``record_llm_call``), :mod:`.search` and
:mod:`.otlp` (the ingest route), and docs/genai.md.
"""

from __future__ import annotations

from mloop.genai.tracing.otlp import create_tracing_router
from mloop.genai.tracing.search import TraceSpan, search_traces
from mloop.genai.tracing.spans import (
    KINDS,
    StoreProcessor,
    record_llm_call,
    reset_tracer_provider,
    span,
    trace,
    tracer_provider,
)
from mloop.genai.tracing.writer import flush_traces

__all__ = [
    "KINDS",
    "StoreProcessor",
    "TraceSpan",
    "create_tracing_router",
    "flush_traces",
    "record_llm_call",
    "reset_tracer_provider",
    "search_traces",
    "span",
    "trace",
    "tracer_provider",
]
