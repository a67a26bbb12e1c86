"""OpenTelemetry spans for language-model applications, stored by mloop.

``@trace`` and ``span()`` wrap application code (retrieval, tools, chains);
:func:`record_llm_call` records one model call after the fact, as the gateway does.
Spans carry the GenAI semantic conventions (``gen_ai.operation.name``,
``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.usage.*``) and mloop's
attributes (``mloop.route``, ``mloop.user``, ``mloop.cost``, ``mloop.prompt.*``).
Message content is recorded only when asked (``capture_content=True`` or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``).

mloop keeps its own tracer provider (it never replaces the application's global one) but
spans nest under whatever span is current, the application's included. Spans are
stored write-behind (:mod:`.writer`) and, when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, exported over OTLP/HTTP as well, content
PII-redacted in both cases unless the route allows it (:mod:`.export`).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, overload

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from mloop.core.errors import InvalidInput
from mloop.core.principal import current_actor
from mloop.genai.tracing.context import prompt_in_scope
from mloop.genai.tracing.export import RedactingExporter
from mloop.genai.tracing.rows import row_from_attributes
from mloop.genai.tracing.writer import writer

__all__ = ["KINDS", "StoreProcessor", "record_llm_call", "span", "trace", "tracer_provider"]

F = TypeVar("F", bound=Callable[..., Any])

# span kinds of application code -> gen_ai.operation.name
KINDS: dict[str, str | None] = {
    "llm": "chat",
    "embedding": "embeddings",
    "retrieval": "retrieval",
    "tool": "execute_tool",
    "agent": "invoke_agent",
    "chain": None,
    "task": None,
}
_CONTENT_LIMIT = 16_384  # characters of captured inputs/outputs per attribute
_lock = threading.Lock()
_provider: TracerProvider | None = None
_exporting = False  # the provider also exports over OTLP


class StoreProcessor(SpanProcessor):
    """Queues each finished span for the metadata store (add it to your own provider too)."""

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None or span.start_time is None or span.end_time is None:
            return
        resource = span.resource.attributes if span.resource is not None else {}
        writer.put_span(
            row_from_attributes(
                trace_id=context.trace_id,
                span_id=context.span_id,
                parent_span_id=span.parent.span_id if span.parent is not None else None,
                name=span.name,
                start_ns=span.start_time,
                end_ns=span.end_time,
                error=span.status.status_code is StatusCode.ERROR,
                error_text=span.status.description,
                attributes=span.attributes or {},
                service=str(resource.get("service.name", "")),
                source="mloop",
            )
        )


def tracer_provider() -> TracerProvider:
    """mloop's tracer provider: the store processor, plus OTLP export when configured."""
    global _provider, _exporting
    if _provider is not None:
        return _provider
    with _lock:
        if _provider is None:
            service = os.environ.get("OTEL_SERVICE_NAME", "mloop")
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(StoreProcessor())
            if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
            ):
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )
                from opentelemetry.sdk.trace.export import BatchSpanProcessor

                provider.add_span_processor(
                    BatchSpanProcessor(RedactingExporter(OTLPSpanExporter()))
                )
                _exporting = True
            _provider = provider
    return _provider


def reset_tracer_provider() -> None:
    """Shut mloop's provider down (exporting what is pending); the next span makes a new one."""
    global _provider, _exporting
    with _lock:
        if _provider is not None:
            _provider.shutdown()
        _provider = None
        _exporting = False


def _service() -> str:
    resource = tracer_provider().resource.attributes
    return str(resource.get("service.name", ""))


def _tracer() -> otel_trace.Tracer:
    return tracer_provider().get_tracer("mloop.genai")


def _capture_default() -> bool:
    flag = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "")
    return flag.strip().lower() in ("1", "true", "yes")


def _kind_attributes(kind: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidInput(f"span kind {kind!r} is not known; use one of {', '.join(KINDS)}.")
    operation = KINDS[kind]
    attributes: dict[str, Any] = {"mloop.span.kind": kind}
    if operation is not None:
        attributes["gen_ai.operation.name"] = operation
    return attributes


@contextmanager
def span(
    name: str, kind: str = "chain", attributes: Mapping[str, Any] | None = None
) -> Iterator[otel_trace.Span]:
    """A span around a block of application code (an exception marks it failed).

    >>> with span("retrieve", kind="retrieval") as s:
    ...     s.set_attribute("mloop.documents", 3)
    """
    merged = _kind_attributes(kind)
    if attributes:
        merged.update(attributes)
    with _tracer().start_as_current_span(name, attributes=merged) as current:
        yield current


@overload
def trace(func: F) -> F: ...
@overload
def trace(
    func: None = None, *, name: str | None = None, kind: str = "chain", capture: bool | None = None
) -> Callable[[F], F]: ...


def trace(
    func: F | None = None,
    *,
    name: str | None = None,
    kind: str = "chain",
    capture: bool | None = None,
) -> F | Callable[[F], F]:
    """Decorate a function (sync or async) so that each call is a span.

    Its arguments and result are recorded (``mloop.inputs``, ``mloop.output``) only when
    content capture is on (``capture=True`` or the OTel GenAI content-capture variable).

    >>> @trace(kind="retrieval")
    ... def retrieve(query: str) -> list[str]:
    ...     return ["doc-1"]
    """
    _kind_attributes(kind)  # validate now, not at the first call

    def decorate(function: F) -> F:
        span_name = name or function.__qualname__
        signature = inspect.signature(function)

        def inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return _clip({"args": args, "kwargs": kwargs})
            return _clip(dict(bound.arguments))

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                keep = _capture_default() if capture is None else capture
                with span(span_name, kind) as current:
                    if keep:
                        current.set_attribute("mloop.inputs", inputs(args, kwargs))
                    result = await function(*args, **kwargs)
                    if keep:
                        current.set_attribute("mloop.output", _clip(result))
                    return result

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            keep = _capture_default() if capture is None else capture
            with span(span_name, kind) as current:
                if keep:
                    current.set_attribute("mloop.inputs", inputs(args, kwargs))
                result = function(*args, **kwargs)
                if keep:
                    current.set_attribute("mloop.output", _clip(result))
                return result

        return run  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def record_llm_call(
    *,
    provider: str,
    model: str,
    operation: str = "chat",
    route: str | None = None,
    user: str | None = None,
    workspace: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cost: float | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    error: str | None = None,
    prompt: Any = None,
    response_model: str | None = None,
    finish_reasons: Sequence[str] | None = None,
    messages: Sequence[Mapping[str, Any]] | None = None,
    output: str | None = None,
    capture_content: bool | None = None,
    allow_pii: bool = False,
    attributes: Mapping[str, Any] | None = None,
) -> str:
    """Record one finished model call as a span; returns its trace id (32 hex digits).

    The gateway calls it once per call with the times it measured (``time.time_ns()``).
    ``prompt`` is a :class:`PromptVersion`, ``"name@version"`` or ``(name, version)``;
    when omitted, a prompt rendered under the current span is used. ``messages`` and
    ``output`` are kept only with content capture on, PII-redacted before storage
    unless ``allow_pii`` (the route allows it). ``error`` marks the call failed.
    """
    end = end_ns if end_ns is not None else time.time_ns()
    start = start_ns if start_ns is not None else end
    user = user if user is not None else current_actor()
    values: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "mloop.span.kind": "embedding" if operation == "embeddings" else "llm",
    }
    optional = {
        "gen_ai.response.model": response_model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.response.finish_reasons": tuple(finish_reasons) if finish_reasons else None,
        "mloop.route": route,
        "mloop.user": user,
        "mloop.workspace": workspace,
        "mloop.cost": cost,
        "error.type": error,
        "mloop.pii.allowed": True if allow_pii else None,
    }
    values.update({key: value for key, value in optional.items() if value is not None})
    noted = _prompt_of(prompt) if prompt is not None else prompt_in_scope()
    if noted is not None:
        values["mloop.prompt.name"], values["mloop.prompt.version"] = noted
    if capture_content if capture_content is not None else _capture_default():
        if messages is not None:
            values["gen_ai.input.messages"] = json.dumps(_semconv_messages(messages))
        if output is not None:
            values["gen_ai.output.messages"] = json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": output}]}]
            )
    if attributes:
        values.update(attributes)
    tracer_provider()
    if not _exporting and not otel_trace.get_current_span().get_span_context().is_valid:
        # a span of its own, stored only: the row the store processor would make from it,
        # without the SDK's span objects (about half the cost, on a gateway's every call)
        trace_id = random.getrandbits(128) or 1
        writer.put_span(
            row_from_attributes(
                trace_id=trace_id,
                span_id=random.getrandbits(64) or 1,
                parent_span_id=None,
                name=f"{operation} {model}",
                start_ns=start,
                end_ns=end,
                error=error is not None,
                error_text=error,
                attributes=values,
                service=_service(),
                source="mloop",
            )
        )
        return f"{trace_id:032x}"
    current = _tracer().start_span(
        f"{operation} {model}", kind=SpanKind.CLIENT, attributes=values, start_time=start
    )
    if error is not None:
        current.set_status(Status(StatusCode.ERROR, error))
    current.end(end_time=end)
    return f"{current.get_span_context().trace_id:032x}"


def _prompt_of(prompt: Any) -> tuple[str, int]:
    if hasattr(prompt, "name") and hasattr(prompt, "version"):
        return str(prompt.name), int(prompt.version)
    if isinstance(prompt, tuple) and len(prompt) == 2:
        return str(prompt[0]), int(prompt[1])
    if isinstance(prompt, str) and "@" in prompt:
        name, _, version = prompt.removeprefix("prompts:/").rpartition("@")
        if version.isdigit():
            return name, int(version)
    raise InvalidInput(
        f"prompt = {prompt!r}; pass a PromptVersion, 'name@version' (e.g. 'qa@3') or (name, version)."
    )


def _semconv_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-format messages in the GenAI conventions' shape (role and text parts)."""
    return [
        {
            "role": str(m.get("role", "user")),
            "parts": [{"type": "text", "content": m.get("content")}],
        }
        for m in messages
    ]


def _clip(value: Any) -> str:
    try:
        text = json.dumps(value, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _CONTENT_LIMIT else text[:_CONTENT_LIMIT] + "…"
