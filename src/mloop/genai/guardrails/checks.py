"""The guardrails: PII, prompt injection, JSON schema, banned content and length.

Each checks one text and returns what it found (``None`` when nothing fired) and, for
those that can, the text redacted. The engine (:mod:`.engine`) runs them over messages.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.genai import pii
from mloop.genai.guardrails.injection import find_injection

__all__ = ["BannedCheck", "Check", "InjectionCheck", "JsonSchemaCheck", "LengthCheck", "PiiCheck"]


@dataclass(frozen=True)
class Found:
    detail: str
    redacted: str | None = None  # the text with the finding removed, when the check can


class Check:
    """One guardrail: ``name``, its ``action``, the stages it applies to, and ``inspect``."""

    name = ""
    actions: tuple[str, ...] = ("warn", "block")
    default_stages: tuple[str, ...] = ("input",)

    def __init__(self, action: str, stages: Sequence[str] | None = None) -> None:
        if action not in self.actions:
            raise InvalidInput(
                f"guardrail {self.name!r}: action {action!r} is not possible; "
                f"use one of {', '.join(self.actions)}."
            )
        self.action = action
        self.stages = tuple(stages or self.default_stages)

    def inspect(self, text: str) -> Found | None:  # pragma: no cover - abstract
        raise NotImplementedError


class PiiCheck(Check):
    """Personal data found by Presidio (see :mod:`mloop.genai.pii`)."""

    name = "pii"
    actions = ("warn", "redact", "block", "fallback")
    default_stages = ("input", "output")

    def __init__(
        self,
        action: str,
        stages: Sequence[str] | None = None,
        entities: Sequence[str] | None = None,
        threshold: float = 0.4,
        ner: bool = False,
    ) -> None:
        super().__init__(action, stages)
        self.ner = ner
        base = pii.DEFAULT_ENTITIES + (pii.NER_ENTITIES if ner else ())
        self.entities = pii.check_entities(entities, ner) if entities is not None else base
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise InvalidInput(f"pii threshold = {threshold!r}; use a number from 0 to 1.")
        self.threshold = float(threshold)
        pii.warm_up(ner)  # load Presidio now (seconds), not on the first request

    def inspect(self, text: str) -> Found | None:
        redacted, findings = pii.redact(text, self.entities, self.threshold, self.ner)
        if not findings:
            return None
        counts = Counter(f.entity for f in findings)
        detail = ", ".join(f"{entity} x{n}" for entity, n in sorted(counts.items()))
        return Found(f"personal data found ({detail})", redacted)


class InjectionCheck(Check):
    """Prompt-injection phrasings (see :mod:`.injection` for the patterns)."""

    name = "injection"
    actions = ("warn", "block", "fallback")

    def inspect(self, text: str) -> Found | None:
        names = find_injection(text)
        return Found(f"prompt-injection pattern(s) {', '.join(names)}") if names else None


class BannedCheck(Check):
    """Terms that must not appear (whole words, case-insensitive)."""

    name = "banned"
    actions = ("warn", "redact", "block", "retry", "fallback")
    default_stages = ("output",)

    def __init__(self, action: str, stages: Sequence[str] | None, terms: Any) -> None:
        super().__init__(action, stages)
        if isinstance(terms, str) or not isinstance(terms, Sequence) or not terms:
            raise InvalidInput(
                f"banned = {terms!r} is not a list of terms; use e.g. banned: [secret-project]."
            )
        if not all(isinstance(t, str) and t.strip() for t in terms):
            raise InvalidInput(f"banned = {terms!r}: every term must be a non-empty string.")
        self.terms = list(terms)
        self.regex = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE
        )

    def inspect(self, text: str) -> Found | None:
        found = sorted({m.group(0).lower() for m in self.regex.finditer(text)})
        if not found:
            return None
        return Found(f"banned term(s) {', '.join(found)}", self.regex.sub("[REDACTED]", text))


class LengthCheck(Check):
    """Text longer than ``limit`` characters."""

    name = "max_length"
    actions = ("warn", "block", "retry", "fallback")
    default_stages = ("output",)

    def __init__(self, action: str, stages: Sequence[str] | None, limit: Any) -> None:
        super().__init__(action, stages)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"max_length = {limit!r}; use a positive number of characters.")
        self.limit = limit

    def inspect(self, text: str) -> Found | None:
        if len(text) <= self.limit:
            return None
        return Found(f"{len(text)} characters, more than max_length {self.limit}")


class JsonSchemaCheck(Check):
    """An answer that is not JSON matching the schema (a ```json fence is accepted)."""

    name = "json_schema"
    actions = ("warn", "block", "retry", "fallback")
    default_stages = ("output",)

    def __init__(self, action: str, stages: Sequence[str] | None, schema: Any) -> None:
        super().__init__(action, stages)
        import jsonschema

        if not isinstance(schema, dict):
            raise InvalidInput(f"json_schema = {schema!r} is not a JSON schema object.")
        try:
            validator_class = jsonschema.validators.validator_for(schema)
            validator_class.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise InvalidInput(f"json_schema is not a valid schema: {exc.message}.") from None
        self.validator = validator_class(schema)

    def inspect(self, text: str) -> Found | None:
        try:
            value = json.loads(_unfenced(text))
        except ValueError as exc:
            return Found(f"the answer is not JSON ({exc})")
        error = next(iter(self.validator.iter_errors(value)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return Found(f"the JSON does not match the schema at {where}: {error.message}")


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.DOTALL)


def _unfenced(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1) if match else text
