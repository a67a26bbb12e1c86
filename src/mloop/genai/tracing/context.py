"""The prompt version in use, remembered for the spans that follow its rendering.

Rendering a registered prompt records its name and version on the span that is current
(any OpenTelemetry span), and remembers them so that :func:`record_llm_call` under the
same parent span records them too, without the caller passing the prompt along. Outside
any span nothing is remembered (a script's calls would otherwise all inherit it).
"""

from __future__ import annotations

from contextvars import ContextVar

from opentelemetry import trace

__all__ = ["note_prompt", "prompt_in_scope"]

# (span id of the span current at rendering, prompt name, version)
_prompt: ContextVar[tuple[int, str, int] | None] = ContextVar("mloop_prompt", default=None)


def note_prompt(name: str, version: int) -> None:
    """Record that prompt ``name`` version ``version`` was rendered in the current span."""
    span = trace.get_current_span()
    if not span.get_span_context().is_valid:
        return  # outside any span there is no scope to carry the prompt in
    if span.is_recording():
        span.set_attribute("mloop.prompt.name", name)
        span.set_attribute("mloop.prompt.version", version)
    _prompt.set((span.get_span_context().span_id, name, version))


def prompt_in_scope() -> tuple[str, int] | None:
    """The prompt rendered under the current span, if one was."""
    noted = _prompt.get()
    if noted is None or noted[0] != trace.get_current_span().get_span_context().span_id:
        return None
    return noted[1], noted[2]
