"""Durations written the way people say them: ``"90s"``, ``"15m"``, ``"3h"``, ``"7d"``, ``"2w"``."""

from __future__ import annotations

import re
from datetime import timedelta

from mloop.core.errors import InvalidInput

_UNITS = {
    "us": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
}
_UNITS["w"] = 7 * _UNITS["d"]
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d|w)\s*$")


def to_micros(value: str | timedelta | int | None, what: str) -> int | None:
    """``value`` in microseconds (None stays None); ints are taken as seconds.

    >>> to_micros("3h", "window")
    10800000000
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    elif isinstance(value, bool):
        raise InvalidInput(f"{what} = {value!r} is not a duration; write e.g. '3h' or '7d'.")
    elif isinstance(value, int):
        micros = value * 1_000_000
    elif isinstance(value, str) and (match := _PATTERN.match(value)):
        micros = int(float(match.group(1)) * _UNITS[match.group(2)])
    else:
        raise InvalidInput(
            f"{what} = {value!r} is not a duration; write a number and a unit "
            "(us, ms, s, m, h, d, w) such as '90s', '3h' or '7d', or pass a timedelta."
        )
    if micros <= 0:
        raise InvalidInput(f"{what} = {value!r} must be positive.")
    return micros


def format_micros(micros: int | None) -> str:
    """The shortest exact spelling of a duration (``10800000000`` -> ``"3h"``)."""
    if micros is None:
        return ""
    for unit in ("w", "d", "h", "m", "s", "ms"):
        if micros % _UNITS[unit] == 0:
            return f"{micros // _UNITS[unit]}{unit}"
    return f"{micros}us"
