"""Hooks around every gateway call: guardrails before and after, accounting on completion.

A hook implements any of three methods (the others may be absent):

- ``before(call)``: may rewrite ``call.messages`` (redaction) or raise (a block);
- ``after(call, response)``: may rewrite ``response.content`` or raise;
- ``on_complete(call, outcome)``: sees what happened (tokens, cost, latency, status, error),
  for accounting, metrics and tracing. It never changes the answer and its errors are
  logged, not raised.

A route's ``guardrails:`` specs are handed to a :data:`GuardrailFactory` that turns each into
a hook; :func:`register_guardrail_factory` installs one (mloop's guardrails do at start).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mloop.core.principal import Principal
from mloop.genai.providers.base import ChatResponse, Usage

__all__ = [
    "CallContext",
    "GatewayHook",
    "GuardrailFactory",
    "Outcome",
    "guardrail_factory",
    "register_guardrail_factory",
]


@dataclass
class CallContext:
    """One call as it goes through the gateway; hooks read it and may rewrite ``messages``."""

    route: str
    principal: Principal
    operation: str = "chat"  # chat or embeddings
    messages: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # embeddings
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    key_id: str = ""  # a short, non-secret id of the API key used
    request_id: str = ""
    started: float = field(default_factory=time.perf_counter)
    # set as the call proceeds
    served_route: str = ""  # differs from ``route`` when a fallback answered
    deployment: str = ""
    provider: str = ""
    model: str = ""
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # hooks' own notes (trace ids...)


@dataclass
class Outcome:
    """What a call came to, for ``on_complete``."""

    status: str  # ok, error, blocked, rate_limited
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    latency_s: float = 0.0
    error: str | None = None
    http_status: int = 200
    cache_hit: bool = False
    response: ChatResponse | None = None


@runtime_checkable
class GatewayHook(Protocol):
    """Any of ``before``, ``after`` and ``on_complete``; see the module docstring."""

    def before(self, call: CallContext) -> None: ...

    def after(self, call: CallContext, response: ChatResponse) -> None: ...

    def on_complete(self, call: CallContext, outcome: Outcome) -> None: ...


GuardrailFactory = Callable[[str, Any], GatewayHook]  # (route name, spec) -> hook

_factory: list[GuardrailFactory] = []


def register_guardrail_factory(factory: GuardrailFactory | None) -> None:
    """Install the factory that turns a route's ``guardrails:`` specs into hooks (None clears)."""
    _factory.clear()
    if factory is not None:
        _factory.append(factory)


def guardrail_factory() -> GuardrailFactory | None:
    return _factory[0] if _factory else None


@dataclass(frozen=True)
class HookSet:
    """The hooks of one route, split by method so the hot path loops only over real ones."""

    before: Sequence[Callable[[CallContext], None]] = ()
    after: Sequence[Callable[[CallContext, ChatResponse], None]] = ()
    complete: Sequence[Callable[[CallContext, Outcome], None]] = ()

    @classmethod
    def of(cls, hooks: Sequence[object]) -> HookSet:
        return cls(
            before=[h.before for h in hooks if callable(getattr(h, "before", None))],  # type: ignore[attr-defined]
            after=[h.after for h in hooks if callable(getattr(h, "after", None))],  # type: ignore[attr-defined]
            complete=[h.on_complete for h in hooks if callable(getattr(h, "on_complete", None))],  # type: ignore[attr-defined]
        )
