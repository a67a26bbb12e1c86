"""Name filters of MLflow's experiment and registered-model searches.

``name = 'x'``, ``name != 'x'``, ``name LIKE 'x%'`` and ``name ILIKE '%x%'`` (``%`` any
text, ``_`` one character); other filters are refused with the supported forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mloop.server.mlflow_api.protocol import MlflowError

_FILTER = re.compile(
    r"^\s*(?:attributes\.)?name\s*(=|!=|LIKE|ILIKE)\s*(?:'((?:[^']|'')*)'|\"([^\"]*)\")\s*$",
    re.IGNORECASE,
)


def like_pattern(value: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL ``LIKE`` as a regular expression."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in value]
    return re.compile(
        "".join(parts) + r"\Z", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    )


def name_filter(filter_string: str | None, call: str) -> Callable[[str], bool]:
    """A predicate on names for ``filter_string`` (everything passes without one)."""
    if not filter_string or not filter_string.strip():
        return lambda name: True
    match = _FILTER.match(filter_string)
    if match is None:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"filter {filter_string!r} is not supported by this server's {call}; filter on "
            "the name only: name = 'x', name != 'x', name LIKE 'x%' or name ILIKE '%x%'.",
        )
    op = match.group(1).upper()
    value = match.group(2).replace("''", "'") if match.group(2) is not None else match.group(3)
    if op == "=":
        return lambda name: name == value
    if op == "!=":
        return lambda name: name != value
    pattern = like_pattern(value, op == "ILIKE")
    return lambda name: pattern.match(name) is not None
