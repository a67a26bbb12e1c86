"""Guardrails of a route: built from configuration, run before and after each call.

>>> rails = Guardrails.from_config([{"pii": "redact"}, {"injection": "block"}])
>>> verdict = rails.check_input([{"role": "user", "content": "mail ada@example.com"}])
>>> verdict.messages[0]["content"], verdict.action
('mail <EMAIL_ADDRESS>', 'redact')

Every hit is counted per guardrail, route, user and action: in Prometheus
(``mloop_genai_guardrail_hits_total``) and in the metadata store (:func:`hit_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import select

from mloop.core.errors import InvalidInput, did_you_mean
from mloop.core.principal import current_actor
from mloop.genai.guardrails.checks import (
    BannedCheck,
    Check,
    InjectionCheck,
    JsonSchemaCheck,
    LengthCheck,
    PiiCheck,
)
from mloop.genai.guardrails.verdict import GuardrailBlocked, Hit, Verdict
from mloop.genai.tracing.writer import writer
from mloop.store import get_store
from mloop.store.schema.genai import GuardrailHit

__all__ = ["Guardrails", "hit_counts"]

_KINDS = ("pii", "injection", "banned", "max_length", "json_schema")
_OPTIONS = {"action", "on", "entities", "threshold", "ner"}
_INJECTION_ROLES = ("user", "tool")


class Guardrails:
    """An ordered list of guardrails with the checks a gateway runs around a call."""

    def __init__(self, checks: Sequence[Check] = ()) -> None:
        self.checks = list(checks)

    @classmethod
    def from_config(cls, specs: Sequence[Mapping[str, Any]] | None) -> Guardrails:
        """Build from a route's ``guardrails:`` list, e.g. ``[{"pii": "redact"}]``.

        Forms: ``{pii: redact}`` (optionally ``entities``, ``threshold``, ``ner``),
        ``{injection: block}``, ``{json_schema: {...}, action: retry}``,
        ``{banned: [...], action: block}``, ``{max_length: N}``; any of them with
        ``on: input | output | both``.

        Raises:
            InvalidInput: an unknown guardrail, option or action (the message names it).
        """
        if specs is None:
            return cls()
        if isinstance(specs, Mapping) or not isinstance(specs, Sequence):
            raise InvalidInput(
                f"guardrails = {specs!r} is not a list; use e.g. [{{pii: redact}}, {{injection: block}}]."
            )
        return cls([_build(index, spec) for index, spec in enumerate(specs)])

    def __bool__(self) -> bool:
        return bool(self.checks)

    def check_input(
        self, messages: Sequence[Mapping[str, Any]], route: str = "", user: str | None = None
    ) -> Verdict:
        """Check the request's messages; the verdict's ``messages`` are what to send.

        Raises:
            GuardrailBlocked: a guardrail with ``action: block`` fired.
        """
        verdict = Verdict(messages=[_copy(m) for m in messages])
        assert verdict.messages is not None
        for check in self.checks:
            if "input" not in check.stages:
                continue
            for message in verdict.messages:
                if (
                    isinstance(check, InjectionCheck)
                    and message.get("role") not in _INJECTION_ROLES
                ):
                    continue
                for holder, key in _texts(message):
                    found = check.inspect(holder[key])
                    if found is None:
                        continue
                    verdict.add(Hit(check.name, "input", check.action, found.detail))
                    if check.action == "redact" and found.redacted is not None:
                        holder[key] = found.redacted
        self._settle(verdict, route, user)
        return verdict

    def check_output(self, text: str, route: str = "", user: str | None = None) -> Verdict:
        """Check the model's answer; the verdict's ``text`` is what to return.

        Raises:
            GuardrailBlocked: a guardrail with ``action: block`` fired.
        """
        verdict = Verdict(text=text)
        for check in self.checks:
            if "output" not in check.stages:
                continue
            found = check.inspect(verdict.text or "")
            if found is None:
                continue
            verdict.add(Hit(check.name, "output", check.action, found.detail))
            if check.action == "redact" and found.redacted is not None:
                verdict.text = found.redacted
        self._settle(verdict, route, user)
        return verdict

    def _settle(self, verdict: Verdict, route: str, user: str | None) -> None:
        if not verdict.hits:
            return
        who = user if user is not None else current_actor()
        counter = _prometheus_counter()
        for hit in verdict.hits:
            writer.add_hits(hit.guardrail, route, who, hit.action)
            counter.labels(hit.guardrail, route, who, hit.action).inc()
        blocking = next((hit for hit in verdict.hits if hit.action == "block"), None)
        if blocking is not None:
            raise GuardrailBlocked(blocking, verdict.hits)


def _copy(message: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``message`` that redaction may change (content parts copied too)."""
    copied = dict(message)
    if isinstance(copied.get("content"), list):
        copied["content"] = [dict(p) if isinstance(p, Mapping) else p for p in copied["content"]]
    return copied


def _texts(message: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Where the message's text is: its content string, or each text part of a list."""
    content = message.get("content")
    if isinstance(content, str):
        return [(message, "content")] if content else []
    if isinstance(content, list):
        return [
            (part, "text")
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        ]
    return []


def hit_counts(
    guardrail: str | None = None, route: str | None = None, user: str | None = None
) -> list[dict[str, Any]]:
    """Stored hit counts (written behind: recent hits are flushed first)."""
    writer.flush()
    query = select(GuardrailHit).order_by(GuardrailHit.guardrail, GuardrailHit.route)
    if guardrail is not None:
        query = query.where(GuardrailHit.guardrail == guardrail)
    if route is not None:
        query = query.where(GuardrailHit.route == route)
    if user is not None:
        query = query.where(GuardrailHit.user == user)
    with get_store().read() as conn:
        rows = [row._mapping for row in conn.execute(query)]
    return [
        {key: r[key] for key in ("guardrail", "route", "user", "action", "count", "last_at")}
        for r in rows
    ]


def _build(index: int, spec: Any) -> Check:
    where = f"guardrails[{index}]"
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"{where} = {spec!r} is not a mapping; use e.g. {{pii: redact}}.")
    kinds = [key for key in spec if key in _KINDS]
    unknown = [key for key in spec if key not in _KINDS and key not in _OPTIONS]
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key {unknown[0]!r}.{did_you_mean(unknown[0], [*_KINDS, *_OPTIONS])} "
            f"Guardrails: {', '.join(_KINDS)}; options: {', '.join(sorted(_OPTIONS))}."
        )
    if len(kinds) != 1:
        raise InvalidInput(
            f"{where} = {dict(spec)!r} must name exactly one guardrail of {', '.join(_KINDS)}."
        )
    kind = kinds[0]
    value = spec[kind]
    stages = _stages(where, spec.get("on"))
    try:
        if kind == "pii":
            return PiiCheck(
                spec.get("action", value),
                stages,
                entities=spec.get("entities"),
                threshold=spec.get("threshold", 0.4),
                ner=bool(spec.get("ner", False)),
            )
        if kind == "injection":
            return InjectionCheck(spec.get("action", value), stages)
        if kind == "banned":
            return BannedCheck(spec.get("action", "block"), stages, value)
        if kind == "max_length":
            return LengthCheck(spec.get("action", "block"), stages, value)
        return JsonSchemaCheck(spec.get("action", "block"), stages, value)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from None


def _stages(where: str, on: Any) -> tuple[str, ...] | None:
    if on is None:
        return None
    choices = {"input": ("input",), "output": ("output",), "both": ("input", "output")}
    if on not in choices:
        raise InvalidInput(f"{where}: on = {on!r}; use input, output or both.")
    return choices[on]


@cache
def _prometheus_counter() -> Any:
    from prometheus_client import Counter

    return Counter(
        "mloop_genai_guardrail_hits",
        "Guardrail hits by guardrail, route, user and action.",
        ["guardrail", "route", "user", "action"],
    )
