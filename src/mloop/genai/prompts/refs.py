"""Prompt names, aliases and references (``prompts:/name@alias``, ``prompts:/name/3``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mloop.core.errors import InvalidInput

__all__ = ["check_alias", "check_mapping", "check_name", "parse_ref"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$")


def parse_ref(ref: str) -> tuple[str, str | None]:
    text = ref.strip()
    if text.startswith("prompts:/"):
        text = text[len("prompts:/") :]
    elif ":" in text.split("/")[0]:
        raise InvalidInput(
            f"prompt reference {ref!r} has an unknown scheme; use 'prompts:/name@alias'."
        )
    text = text.strip("/")
    if "@" in text:
        name, _, alias = text.partition("@")
        selector: str | None = alias
    elif "/" in text:
        name, _, selector = text.partition("/")
    else:
        name, selector = text, None
    check_name(name)
    if selector is not None and not selector:
        raise InvalidInput(f"prompt reference {ref!r} ends without a version or alias.")
    return name, selector


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"prompt name {name!r} is not valid; use letters, digits, '.', '_' or '-' "
            "(no '/' or '@'), e.g. 'support-answer'."
        )
    return name


def check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not _NAME.match(alias) or alias.isdigit() or alias == "latest":
        raise InvalidInput(
            f"alias {alias!r} is not valid; use a name such as 'production' (not a number or "
            "'latest', no '/' or '@')."
        )
    return alias


def check_mapping(what: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} = {value!r} is not a mapping; use e.g. {{'temperature': 0.2}}.")
    return dict(value)
