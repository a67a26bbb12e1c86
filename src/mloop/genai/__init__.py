"""mloop.genai: prompts, guardrails and tracing for language-model applications.

Names load on first use (OpenTelemetry and Presidio are imported only when needed)::

    import mloop.genai as genai

    qa = genai.register_prompt("qa", "Answer briefly: {{ question }}")
    with genai.span("answer", kind="chain"):
        text = qa.render(question="why is the sky blue?")

See docs/genai.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # prompt registry
    "PromptInfo": "mloop.genai.prompts",
    "PromptVersion": "mloop.genai.prompts",
    "register_prompt": "mloop.genai.prompts",
    "load_prompt": "mloop.genai.prompts",
    "list_prompts": "mloop.genai.prompts",
    "list_prompt_versions": "mloop.genai.prompts",
    "set_prompt_alias": "mloop.genai.prompts",
    "delete_prompt_alias": "mloop.genai.prompts",
    "promote_prompt": "mloop.genai.prompts",
    # guardrails
    "Guardrails": "mloop.genai.guardrails",
    "GuardrailBlocked": "mloop.genai.guardrails",
    "Verdict": "mloop.genai.guardrails",
    "Hit": "mloop.genai.guardrails",
    "hit_counts": "mloop.genai.guardrails",
    # tracing
    "trace": "mloop.genai.tracing",
    "span": "mloop.genai.tracing",
    "record_llm_call": "mloop.genai.tracing",
    "search_traces": "mloop.genai.tracing",
    "flush_traces": "mloop.genai.tracing",
    "TraceSpan": "mloop.genai.tracing",
    "create_tracing_router": "mloop.genai.tracing",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mloop.genai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from mloop.genai.guardrails import GuardrailBlocked, Guardrails, Hit, Verdict, hit_counts
    from mloop.genai.prompts import (
        PromptInfo,
        PromptVersion,
        delete_prompt_alias,
        list_prompt_versions,
        list_prompts,
        load_prompt,
        promote_prompt,
        register_prompt,
        set_prompt_alias,
    )
    from mloop.genai.tracing import (
        TraceSpan,
        create_tracing_router,
        flush_traces,
        record_llm_call,
        search_traces,
        span,
        trace,
    )
