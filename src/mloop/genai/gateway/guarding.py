"""mloop's guardrails and tracing as gateway hooks (the gateway's defaults).

A route's ``guardrails:`` list, e.g. ``[{pii: redact}, {injection: block}]``, becomes one
:class:`GuardrailHook` per entry, built with :meth:`Guardrails.from_config`: its input
checks run before the call (a redaction rewrites what goes upstream), its output checks
after it (a redaction rewrites the answer). A ``block`` raises
:class:`~mloop.genai.guardrails.GuardrailBlocked`, which clients see as a 400 naming the
guardrail. ``retry`` and ``fallback`` are refused the same way (a 400 whose code says so):
the hook interface can rewrite or refuse a call, not send it again.

:class:`TracingHook` records each finished call with :func:`record_llm_call` (a span put on
the tracing writer's in-memory queue; the database write happens in its thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mloop.genai.gateway.hooks import CallContext, Outcome
from mloop.genai.guardrails import GuardrailBlocked, Guardrails, Verdict
from mloop.genai.providers.base import ChatResponse
from mloop.genai.tracing import record_llm_call

__all__ = ["GuardrailHook", "TracingHook", "default_guardrail_factory"]


class GuardrailHook:
    """One entry of a route's ``guardrails:`` list around each call of the route.

    ``before`` and ``after`` are None when the guardrail has no input or no output stage,
    so the gateway skips them (and streams of a route without output checks stay streamed).
    """

    before: Callable[[CallContext], None] | None
    after: Callable[[CallContext, ChatResponse], None] | None

    def __init__(self, route: str, spec: Any) -> None:
        self.route = route
        self.rails = Guardrails.from_config([spec])
        stages = {stage for check in self.rails.checks for stage in check.stages}
        self.before = self._before if "input" in stages else None
        self.after = self._after if "output" in stages else None

    def _before(self, call: CallContext) -> None:
        user = call.principal.name
        if call.operation == "embeddings":
            wrapped = [{"role": "user", "content": text} for text in call.inputs]
            verdict = self.rails.check_input(wrapped, route=call.route, user=user)
            _refuse_unless_passed(verdict)
            assert verdict.messages is not None
            call.inputs = [str(m["content"]) for m in verdict.messages]
            return
        verdict = self.rails.check_input(call.messages, route=call.route, user=user)
        _refuse_unless_passed(verdict)
        assert verdict.messages is not None
        call.messages = verdict.messages

    def _after(self, call: CallContext, response: ChatResponse) -> None:
        verdict = self.rails.check_output(
            response.content, route=call.route, user=call.principal.name
        )
        _refuse_unless_passed(verdict)
        if verdict.text is not None:
            response.content = verdict.text


def _refuse_unless_passed(verdict: Verdict) -> None:
    """``retry`` and ``fallback`` verdicts: refused like a block (the hook cannot resend)."""
    if verdict.passed:
        return
    hit = next(h for h in verdict.hits if h.action == verdict.action)
    raise GuardrailBlocked(hit, verdict.hits)


def default_guardrail_factory(route: str, spec: Any) -> GuardrailHook:
    """The factory the gateway uses when none is registered: mloop's own guardrails."""
    return GuardrailHook(route, spec)


class TracingHook:
    """Records every gateway call as an ``llm`` (or ``embedding``) span, searchable by route."""

    def on_complete(self, call: CallContext, outcome: Outcome) -> None:
        end = time.time_ns()
        attributes: dict[str, Any] = {
            "mloop.gateway.status": outcome.status,
            "mloop.gateway.http_status": outcome.http_status,
            "mloop.gateway.attempts": call.attempts,
        }
        if call.deployment:
            attributes["mloop.gateway.deployment"] = call.deployment
        if call.served_route and call.served_route != call.route:
            attributes["mloop.gateway.served_route"] = call.served_route
        if outcome.cache_hit:
            attributes["mloop.gateway.cache_hit"] = True
        record_llm_call(
            provider=call.provider or "none",
            model=call.model or call.route,
            operation=call.operation,
            route=call.route,
            user=call.principal.name,
            workspace=call.principal.workspace,
            input_tokens=outcome.usage.input_tokens,
            output_tokens=outcome.usage.output_tokens,
            cost=outcome.cost,
            start_ns=end - int(outcome.latency_s * 1e9),
            end_ns=end,
            error=outcome.error if outcome.status != "ok" else None,
            response_model=outcome.response.model if outcome.response is not None else None,
            attributes=attributes,
        )
