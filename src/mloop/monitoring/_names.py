"""Model names that monitoring reads by: an unknown name is an error, never an empty answer.

A typo in a scheduled ``mloop monitor run`` would otherwise give no windows and no alerts,
silently; the error names the nearest registered models.
"""

from __future__ import annotations

from mloop.registry import get_model


def check_model(name: str) -> str:
    """``name`` when it is a registered model (callers ask when a name found no stored rows).

    Raises:
        NotFound: no registered model has that name (the message suggests the nearest).
    """
    get_model(name)
    return name
