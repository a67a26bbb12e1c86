"""How entity keys and feature values are written online.

An entity key is its join-key values as text joined by the unit separator; integral
floats are written as integers, so ``1``, ``1.0`` and ``"1"`` find the same row (JSON
requests and Arrow batches agree). Values are a JSON list in the view's feature order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

SEP = "\x1f"


def key_part(value: Any) -> str | None:
    """One join-key value as text (None for a missing value)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return key_part(value.item())
    return str(value)


def encode_key(values: Sequence[Any]) -> str | None:
    """The online key of one entity (None when a join-key value is missing)."""
    parts = [key_part(v) for v in values]
    if any(p is None for p in parts):
        return None
    return SEP.join(parts)  # type: ignore[arg-type]


def encode_values(values: Sequence[Any]) -> bytes:
    import orjson

    return orjson.dumps(list(values), option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NAIVE_UTC)


def decode_many(payloads: Sequence[bytes]) -> list[list[Any]]:
    """Decode several payloads in one call (one JSON array of them)."""
    import orjson

    if not payloads:
        return []
    return orjson.loads(b"[" + b",".join(payloads) + b"]")
