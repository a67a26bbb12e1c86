"""Prompt templates: a text or a list of chat messages with ``{{ variable }}`` slots.

A template is data (it never runs code, unlike a Jinja template): the slots are found
once, and rendering substitutes each one, naming any variable the caller did not pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mloop.core.errors import InvalidInput, did_you_mean

__all__ = ["Template", "check_template", "template_variables"]

_SLOT = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ROLES = ("system", "user", "assistant", "developer", "tool")

# A template: a string, or OpenAI-format messages whose content holds the slots.
Template = str | list[dict[str, str]]


def check_template(template: Any) -> Template:
    """Return ``template`` when it is a string or a list of {"role", "content"} messages."""
    if isinstance(template, str):
        if not template.strip():
            raise InvalidInput("template is empty; pass the prompt text, e.g. 'Answer: {{ q }}'.")
        return template
    if isinstance(template, Sequence) and template:
        messages: list[dict[str, str]] = []
        for index, message in enumerate(template):
            if (
                not isinstance(message, Mapping)
                or message.get("role") not in _ROLES
                or not isinstance(message.get("content"), str)
            ):
                raise InvalidInput(
                    f"template[{index}] = {message!r} is not a chat message; use "
                    f'{{"role": "user", "content": "..."}} with role one of {", ".join(_ROLES)}.'
                )
            messages.append({"role": message["role"], "content": message["content"]})
        return messages
    raise InvalidInput(
        f"template = {template!r} is neither a string nor a non-empty list of chat messages."
    )


def template_variables(template: Template) -> list[str]:
    """The variables of ``template`` in order of first appearance."""
    texts = [template] if isinstance(template, str) else [m["content"] for m in template]
    seen: dict[str, None] = {}
    for text in texts:
        for match in _SLOT.finditer(text):
            seen.setdefault(match.group(1), None)
    return list(seen)


def render(template: Template, variables: Mapping[str, Any], what: str) -> Template:
    """Fill every slot of ``template`` from ``variables`` (``what`` names the prompt in errors)."""
    needed = template_variables(template)
    missing = [name for name in needed if name not in variables]
    if missing:
        extra = [name for name in variables if name not in needed]
        hint = "".join(did_you_mean(name, extra) for name in missing)
        raise InvalidInput(
            f"{what} needs the variable(s) {', '.join(repr(m) for m in missing)}; pass them, "
            f"e.g. render({missing[0]}=...).{hint}"
        )

    def fill(text: str) -> str:
        return _SLOT.sub(lambda match: str(variables[match.group(1)]), text)

    if isinstance(template, str):
        return fill(template)
    return [{"role": m["role"], "content": fill(m["content"])} for m in template]
