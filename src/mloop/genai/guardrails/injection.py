"""Prompt-injection heuristics: a documented list of patterns, each with a name.

Each pattern targets a phrasing that tries to override the application's instructions
(``ignore all previous instructions``), extract them (``reveal your system prompt``),
switch the model into an unrestricted persona (``you are now DAN``), or smuggle in
fake chat-template markers (``<|im_start|>system``). They are heuristics: they catch the
common, copy-pasted attacks cheaply (a few µs per message) and miss paraphrases; tests
check both hits and ordinary prompts that must pass (docs/genai.md lists them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PATTERNS", "InjectionPattern", "find_injection"]


@dataclass(frozen=True)
class InjectionPattern:
    name: str
    description: str
    regex: re.Pattern[str]


def _p(name: str, description: str, pattern: str) -> InjectionPattern:
    return InjectionPattern(name, description, re.compile(pattern, re.IGNORECASE | re.MULTILINE))


_PRIOR = r"(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system)"
_RULES = r"(?:instructions?|rules|prompts?|directions|directives|guidelines|context|commands)"

PATTERNS: tuple[InjectionPattern, ...] = (
    _p(
        "ignore_instructions",
        "tells the model to ignore, disregard or forget the instructions it was given",
        rf"\b(?:ignore|disregard|forget|override|skip)\b[\w\s,']{{0,20}}?\b{_PRIOR}\s+{_RULES}",
    ),
    _p(
        "new_instructions",
        "announces replacement instructions",
        r"\b(?:your|the)\s+new\s+(?:instructions|rules|task|directive)s?\s+(?:are|is|:)",
    ),
    _p(
        "reveal_prompt",
        "asks for the system prompt or hidden instructions",
        r"\b(?:reveal|show|print|repeat|output|leak|display|tell\s+me|what\s+(?:is|are|was|were))\b"
        r"[\w\s]{0,15}?\b(?:your|the)\s+(?:system\s+prompt|system\s+message|initial\s+prompt|"
        r"hidden\s+(?:prompt|instructions)|original\s+instructions|developer\s+message)",
    ),
    _p(
        "repeat_above",
        "asks the model to repeat the text that precedes the conversation",
        r"\b(?:repeat|print|output|copy)\b[\w\s]{0,20}?\b(?:words|text|everything)\s+"
        r"(?:above|before\s+this)\b",
    ),
    _p(
        "persona_override",
        "switches the model to an unrestricted persona or 'developer mode'",
        r"\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be|from\s+now\s+on\s+you\s+are)\s+"
        r"(?:an?\s+)?(?:DAN\b|unrestricted|unfiltered|uncensored|jailbroken|evil)"
        r"|\bdo\s+anything\s+now\b|\bdeveloper\s+mode\s+(?:enabled|on|activated)\b",
    ),
    _p(
        "bypass_safety",
        "asks to bypass or disable safety rules, filters or guardrails",
        r"\b(?:bypass|disable|turn\s+off|ignore|override|circumvent)\s+(?:your|the|all|any)\s+"
        r"(?:safety\s+|content\s+|ethical\s+)?(?:filters?|guardrails?|restrictions|policies|"
        r"safety\s+(?:rules|guidelines))\b",
    ),
    _p(
        "fake_markers",
        "contains chat-template or role markers that fake a system turn",
        r"<\|im_start\|>|<\|im_end\|>|<\|system\|>|<\|start_header_id\|>|\[/?INST\]|<</?SYS>>"
        r"|^\s*#{2,}\s*(?:system|new\s+instructions?)\b",
    ),
)


def find_injection(text: str) -> list[str]:
    """The names of the patterns that match ``text`` (empty when none does)."""
    return [pattern.name for pattern in PATTERNS if pattern.regex.search(text)]
