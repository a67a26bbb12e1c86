"""Requests checked against a model's signature: one clear 422 per mistake, never a 500.

Checks run per request, on plain Python lists, before a request joins a batch, so one bad
request never fails the others. :func:`to_frame` then builds the batch's DataFrame with
the signature's types.

>>> sig = Signature((ColSpec("distance", "double"), ColSpec("carrier", "string")))
>>> validate(Columns({"distance": ["far"], "carrier": ["UA"]}, 1), sig)
Traceback (most recent call last):
InvalidInput: field 'distance' expects double but row 0 holds the string 'far'...
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any, Literal

from mloop.core.errors import InvalidInput
from mloop.serving.payload import Columns

if TYPE_CHECKING:
    import pandas as pd

    from mloop.registry import Signature

Extra = Literal["reject", "ignore", "keep"]

_NUMBER = (int, float)
_ALLOWED: dict[str, tuple[type, ...]] = {
    "double": _NUMBER,
    "float": _NUMBER,
    "integer": (int, float),  # a float is accepted when it is whole
    "long": (int, float),
    "boolean": (bool,),
    "string": (str,),
    "category": (str, int),
    "datetime": (str, int),
    "binary": (str,),
}


# The values each numeric conversion can hold: a field outside them is a 422 at the door,
# never an OverflowError (a 500) when the batch becomes arrays or the log becomes Arrow.
_INT64 = (-(2**63), 2**63 - 1)
_BOUNDS: dict[str, tuple[int | float, int | float]] = {
    "integer": (-(2**31), 2**31 - 1),  # the signature's int32
    "long": _INT64,
    "double": (-sys.float_info.max, sys.float_info.max),  # a huge int has no float64
    "float": (-sys.float_info.max, sys.float_info.max),
    "category": _INT64,  # integer categories: held as int64 by the model and the log
    "datetime": _INT64,  # integer times: epoch numbers pandas reads as int64
}


def _describe(spec_names: list[str], types: dict[str, str]) -> str:
    return ", ".join(f"{n} ({types[n]})" for n in spec_names)


# Types that need no per-value look: every value of such a column is accepted as sent.
_CLEAN: dict[str, frozenset[type]] = {
    "double": frozenset((int, float)),
    "float": frozenset((int, float)),
    "integer": frozenset((int,)),
    "long": frozenset((int,)),
    "boolean": frozenset((bool,)),
    "string": frozenset((str,)),
    "category": frozenset((str, int)),
    "datetime": frozenset((str, int)),
    "binary": frozenset((str,)),
}


class _Plan:
    """A signature compiled once for the per-request checks (fields, types, messages)."""

    def __init__(self, signature: Signature) -> None:
        self.signature = signature  # keeps the id this plan is cached under alive
        self.types = {c.name: c.type for c in signature.inputs}
        self.names = list(self.types)
        self.specs = [
            (
                c.name,
                c.type,
                c.optional,
                _CLEAN.get(c.type, frozenset()),
                c.type in _NAN_CHECKED,
                _BOUNDS.get(c.type),
            )
            for c in signature.inputs
        ]

    def describe(self) -> str:
        return _describe(self.names, self.types)


_NAN_CHECKED = frozenset(("double", "float"))
_PLANS: dict[int, _Plan] = {}


def _plan(signature: Signature) -> _Plan:
    plan = _PLANS.get(id(signature))
    if plan is None or plan.signature is not signature:
        if len(_PLANS) > 64:  # signatures of models swapped out long ago
            _PLANS.clear()
        plan = _PLANS[id(signature)] = _Plan(signature)
    return plan


def input_names(signature: Signature | None) -> list[str] | None:
    """The signature's input names in order (cached), or None without a signature."""
    if signature is None or not signature.inputs:
        return None
    return _plan(signature).names


def validate(columns: Columns, signature: Signature | None, extra: Extra = "reject") -> Columns:
    """``columns`` checked and ordered by ``signature`` (unchanged when there is none).

    Raises:
        InvalidInput: a missing required field, a field the model does not know (with
            ``extra="reject"``), a value of the wrong type, or a null/NaN where the
            signature forbids it. The message names the field, the row and the fix.
    """
    if signature is None or not signature.inputs:
        return columns
    plan = _plan(signature)
    data = columns.data
    rows = columns.rows
    out: dict[str, list[Any]] = {}
    for name, kind, optional, clean, nan_checked, bounds in plan.specs:
        values = data.get(name)
        if values is None:
            if optional:
                out[name] = [None] * rows
                continue
            raise InvalidInput(f"field {name!r} is missing; the model expects {plan.describe()}.")
        seen = set(map(type, values))
        if seen <= clean:  # the common case: every value already of an accepted type
            if (nan_checked and not optional and float in seen and _has_nan(values)) or (
                int in seen and bounds is not None and not _within(values, seen, bounds)
            ):
                _check_values(name, kind, optional, values)  # raises, naming the row
            out[name] = values
        else:
            out[name] = _check_values(name, kind, optional, values)
    if len(out) < len(data):
        types = plan.types
        unknown = [name for name in data if name not in types]
        if unknown and extra == "reject":
            raise InvalidInput(
                f"field {unknown[0]!r} is not an input of the model; remove it. The model "
                f"expects {plan.describe()}."
            )
        if extra == "keep":
            for name in unknown:
                out[name] = data[name]
    return Columns(out, rows, columns.request_ids)


def _has_nan(values: list[Any]) -> bool:
    return any(v != v for v in values)


def _within(values: list[Any], seen: set[type], bounds: tuple[int | float, int | float]) -> bool:
    """Whether every integer of ``values`` fits ``bounds`` (a quick look; False sends the
    field to the row-by-row check, which names the row or finds nothing wrong)."""
    if len(values) == 1:  # a one-row request: no list to build, no min/max
        value = values[0]
        return type(value) is not int or bounds[0] <= value <= bounds[1]
    numbers = values if str not in seen else [v for v in values if type(v) is int]
    try:
        return bool(bounds[0] <= min(numbers) and max(numbers) <= bounds[1])
    except (TypeError, ValueError):
        return False


def _out_of_range(name: str, kind: str, values: list[Any]) -> None:
    """Raise for the first integer outside what ``kind`` holds (no conversion overflows)."""
    low, high = _BOUNDS[kind]
    for row, value in enumerate(values):
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            shown = _number(value)
            raise InvalidInput(
                f"field {name!r} expects {kind} but row {row} holds {shown}, outside the range "
                f"of a {kind} ({low:.4g} to {high:.4g}); send a value within it."
            )


def _check_values(name: str, kind: str, optional: bool, values: list[Any]) -> list[Any]:
    allowed = _ALLOWED.get(kind, (object,))
    seen = set(map(type, values))
    if kind != "boolean" and bool in seen:
        _fail(name, kind, values, lambda v: isinstance(v, bool))
    if type(None) in seen:
        if not optional:
            row = values.index(None)
            raise InvalidInput(
                f"field {name!r} is null in row {row}; the model needs a {kind} value there."
            )
        seen.discard(type(None))
    bad = [t for t in seen if not issubclass(t, allowed)]
    if bad:
        _fail(name, kind, values, lambda v: v is not None and not isinstance(v, allowed))
    if float in seen and kind in ("double", "float") and not optional:
        nan = next(
            (i for i, v in enumerate(values) if isinstance(v, float) and math.isnan(v)), None
        )
        if nan is not None:
            raise InvalidInput(
                f"field {name!r} is NaN in row {nan}; the model needs a {kind} value there."
            )
    if float in seen and kind in ("integer", "long"):
        for row, value in enumerate(values):
            if isinstance(value, float) and not value.is_integer():
                raise InvalidInput(
                    f"field {name!r} expects {kind} but row {row} holds {value!r}; send a whole "
                    "number."
                )
        values = [int(v) if isinstance(v, float) else v for v in values]
    if kind in _BOUNDS:
        _out_of_range(name, kind, values)
    return values


def _number(value: int) -> str:
    """An integer short enough for a message: ``1.000e+30``, or its digit count past floats."""
    if abs(value) <= 10**15:
        return str(value)
    if abs(value) <= sys.float_info.max:
        return f"{value:.3e}"
    return f"an integer of {len(str(abs(value)))} digits"


def _fail(name: str, kind: str, values: list[Any], is_bad: Any) -> None:
    row = next(i for i, v in enumerate(values) if is_bad(v))
    value = values[row]
    shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
    what = {
        bool: "the boolean",
        str: "the string",
        int: "the integer",
        float: "the number",
        list: "the list",
        dict: "the object",
    }.get(type(value), type(value).__name__)
    raise InvalidInput(
        f"field {name!r} expects {kind} but row {row} holds {what} {shown}; send a {kind} value."
    )


def to_arrays(data: dict[str, list[Any]], signature: Signature | None = None) -> dict[str, Any]:
    """The merged columns as arrays of the signature's types (what the frame and log hold).

    Raises:
        InvalidInput: a datetime field holds a value that is not a time, or a number does not
            fit its column's type (validation catches those first; this is the backstop).
    """
    import numpy as np

    types = _plan(signature).types if signature is not None and signature.inputs else {}
    arrays: dict[str, Any] = {}
    for name, values in data.items():
        kind = types.get(name)
        try:
            if kind in ("double", "float"):
                arrays[name] = np.asarray(values, dtype="float64")
            elif kind in ("integer", "long"):
                has_null = None in values
                arrays[name] = np.asarray(values, dtype="float64" if has_null else "int64")
            elif kind == "datetime":
                arrays[name] = _datetimes(name, values)
            else:
                arrays[name] = values
        except (OverflowError, TypeError) as exc:
            raise InvalidInput(
                f"field {name!r} holds a value that is not a {kind} ({exc}); send a {kind} value."
            ) from None
    return arrays


def _datetimes(name: str, values: list[Any]) -> Any:
    import pandas as pd

    try:
        return pd.to_datetime(pd.Series(values))
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(
            f"field {name!r} expects datetime values such as '2026-01-31T12:00' ({exc})."
        ) from None


def to_frame(data: dict[str, list[Any]], signature: Signature | None = None) -> pd.DataFrame:
    """One DataFrame of the merged columns, with the signature's types where it has them."""
    import pandas as pd

    return pd.DataFrame(to_arrays(data, signature))
