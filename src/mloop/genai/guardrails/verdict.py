"""What a guardrail check returns: the (possibly rewritten) content, the hits and the action."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mloop.core.errors import InvalidInput

__all__ = ["ACTIONS", "GuardrailBlocked", "Hit", "Verdict"]

# What a guardrail does when it fires; the verdict carries the strongest one. ``warn`` only
# counts the hit; ``retry`` and ``fallback`` are for the gateway to carry out.
ACTIONS = ("warn", "redact", "retry", "fallback", "block")
_RANK = {"pass": 0, **{action: rank for rank, action in enumerate(ACTIONS, start=1)}}


@dataclass(frozen=True)
class Hit:
    """One guardrail that fired: which, on what stage, with what action, and why."""

    guardrail: str
    stage: str  # input or output
    action: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {
            "guardrail": self.guardrail,
            "stage": self.stage,
            "action": self.action,
            "detail": self.detail,
        }


@dataclass
class Verdict:
    """The outcome of :meth:`Guardrails.check_input` or :meth:`Guardrails.check_output`.

    ``messages`` (input) or ``text`` (output) is what to send on: the original, or the
    redacted version. ``action`` is the strongest action among the hits: ``pass`` when
    nothing fired, else ``warn``, ``redact``, ``retry`` or ``fallback`` (a block raises
    :class:`GuardrailBlocked` instead of returning).
    """

    action: str = "pass"
    hits: list[Hit] = field(default_factory=list)
    messages: list[dict[str, Any]] | None = None
    text: str | None = None

    @property
    def passed(self) -> bool:
        """True when the content may go on as it is or redacted (no retry, no fallback)."""
        return self.action in ("pass", "warn", "redact")

    def add(self, hit: Hit) -> None:
        self.hits.append(hit)
        if _RANK[hit.action] > _RANK[self.action]:
            self.action = hit.action

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "hits": [hit.to_dict() for hit in self.hits]}


class GuardrailBlocked(InvalidInput):
    """A guardrail with ``action: block`` fired; the message names the guardrail and why.

    Servers answer 400 (what OpenAI-compatible clients expect of a refused request).
    """

    http_status = 400

    def __init__(self, hit: Hit, hits: list[Hit]) -> None:
        what = "request" if hit.stage == "input" else "model's answer"
        super().__init__(
            f"the {what} was blocked by the {hit.guardrail!r} guardrail: {hit.detail}. "
            + _ADVICE.get(hit.guardrail, "Change the content, or the route's guardrails.")
        )
        self.guardrail = hit.guardrail
        self.stage = hit.stage
        self.hits = hits


_ADVICE = {
    "pii": "Remove the personal data, or configure the route's pii guardrail with action: redact.",
    "injection": "Rephrase the request without instructions aimed at the model's own rules.",
    "banned": "Rephrase without the banned terms.",
    "max_length": "Ask for a shorter answer or raise max_length on the route.",
    "json_schema": "Ask for JSON that matches the schema, or use action: retry.",
}
