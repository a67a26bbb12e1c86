"""Guardrails before and after a language-model call: PII, injection, output checks.

See :class:`Guardrails` and docs/genai.md.
"""

from __future__ import annotations

from mloop.genai.guardrails.engine import Guardrails, hit_counts
from mloop.genai.guardrails.injection import PATTERNS, find_injection
from mloop.genai.guardrails.verdict import ACTIONS, GuardrailBlocked, Hit, Verdict

__all__ = [
    "ACTIONS",
    "PATTERNS",
    "GuardrailBlocked",
    "Guardrails",
    "Hit",
    "Verdict",
    "find_injection",
    "hit_counts",
]
