"""Node: one function of a pipeline, with the names of the datasets it reads and writes.

>>> def clean(flights, threshold):
...     return flights[flights.dep_delay < threshold]
>>> n = node(clean, ["flights", "params:threshold"], "clean_flights")
>>> n.name, n.inputs, n.outputs
('clean', ('flights', 'params:threshold'), ('clean_flights',))

Inputs are given as a name, a list (passed positionally) or a dict (argument name ->
dataset name). Outputs are a name, a list (the function returns a tuple of that many
values) or a dict (the function returns a dict with those keys).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mloop.core.errors import InvalidInput

__all__ = ["PARAMS_PREFIX", "Node", "node"]

PARAMS_PREFIX = "params:"
ALL_PARAMS = "parameters"


def is_param(name: str) -> bool:
    """Whether an input name is a parameter (``params:...`` or ``parameters``)."""
    return name == ALL_PARAMS or name.startswith(PARAMS_PREFIX)


_NAME = re.compile(r"^[A-Za-z_][\w.\-:]*$")

Spec = str | Sequence[str] | Mapping[str, str] | None


@dataclass(frozen=True)
class Node:
    """A function with named inputs and outputs. Build it with :func:`node`."""

    func: Callable[..., Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    name: str
    tags: frozenset[str] = frozenset()
    namespace: str | None = None
    # argument names when inputs were given as a dict, None when positional
    arg_names: tuple[str, ...] | None = None
    # output keys when outputs were given as a dict, None when a value or a tuple
    output_keys: tuple[str, ...] | None = None

    @property
    def func_name(self) -> str:
        return getattr(self.func, "__qualname__", getattr(self.func, "__name__", repr(self.func)))

    def call(self, values: Sequence[Any]) -> dict[str, Any]:
        """Run the function on input values (in ``inputs`` order); return ``{output: value}``."""
        if self.arg_names is None:
            result = self.func(*values)
        else:
            result = self.func(**dict(zip(self.arg_names, values, strict=True)))
        return self.split_outputs(result)

    def split_outputs(self, result: Any) -> dict[str, Any]:
        """Map the function's return value to output names, or raise a clear InvalidInput."""
        where = f"node {self.name!r} ({self.func_name})"
        if not self.outputs:
            return {}
        if self.output_keys is not None:
            if not isinstance(result, Mapping):
                raise InvalidInput(
                    f"{where} returned {type(result).__name__}, but its outputs are a dict; "
                    f"return a dict with keys {list(self.output_keys)}."
                )
            missing = [k for k in self.output_keys if k not in result]
            if missing:
                raise InvalidInput(
                    f"{where} returned a dict without the keys {missing}; it must return "
                    f"every key of its outputs {list(self.output_keys)}."
                )
            return {name: result[k] for k, name in zip(self.output_keys, self.outputs, strict=True)}
        if len(self.outputs) == 1:
            return {self.outputs[0]: result}
        if not isinstance(result, list | tuple) or len(result) != len(self.outputs):
            got = f"{len(result)} values" if isinstance(result, list | tuple) else "one value"
            raise InvalidInput(
                f"{where} returned {got}, but it declares {len(self.outputs)} outputs "
                f"{list(self.outputs)}; return a tuple of {len(self.outputs)} values or change "
                "its outputs."
            )
        return dict(zip(self.outputs, result, strict=True))

    def renamed(self, mapping: Callable[[str], str], namespace: str | None) -> Node:
        """A copy with every dataset name passed through ``mapping`` (for namespaces)."""
        name = f"{namespace}.{self.name}" if namespace else self.name
        full = f"{namespace}.{self.namespace}" if namespace and self.namespace else namespace
        return replace(
            self,
            inputs=tuple(mapping(i) for i in self.inputs),
            outputs=tuple(mapping(o) for o in self.outputs),
            name=name,
            namespace=full or self.namespace,
        )

    def __str__(self) -> str:
        ins = ", ".join(self.inputs) or "-"
        outs = ", ".join(self.outputs) or "-"
        return f"{self.name}: {self.func_name}([{ins}]) -> [{outs}]"


def _names(spec: Spec, what: str, where: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    if spec is None:
        return (), None
    if isinstance(spec, str):
        values: list[str] = [spec]
        keys = None
    elif isinstance(spec, Mapping):
        keys = tuple(str(k) for k in spec)
        values = list(spec.values())
    elif isinstance(spec, Sequence):
        values = list(spec)
        keys = None
    else:
        raise InvalidInput(
            f"{where}: {what} {spec!r} must be a dataset name, a list of names or a dict; "
            f"e.g. {what}=['flights', 'params:threshold']."
        )
    for value in values:
        if not isinstance(value, str) or not _NAME.match(value):
            raise InvalidInput(
                f"{where}: {what[:-1]} name {value!r} is not valid; use letters, digits, '_', "
                "'.', '-' and ':' (e.g. 'clean_flights' or 'params:threshold')."
            )
    if what == "outputs":
        for value in values:
            if value.startswith(PARAMS_PREFIX) or value == ALL_PARAMS:
                raise InvalidInput(
                    f"{where}: output {value!r} is a parameter name; parameters are read-only, "
                    "give the output another name."
                )
        if len(set(values)) != len(values):
            raise InvalidInput(f"{where}: outputs {values} name the same dataset twice.")
    return tuple(values), keys


def _check_signature(
    func: Callable[..., Any], inputs: tuple[str, ...], keys: Any, where: str
) -> None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature: checked when called
        return
    try:
        if keys is None:
            signature.bind(*inputs)
        else:
            signature.bind(**dict.fromkeys(keys, None))
    except TypeError as exc:
        params = list(signature.parameters)
        given = list(keys) if keys is not None else list(inputs)
        raise InvalidInput(
            f"{where}: its inputs {given} do not match the signature of "
            f"{getattr(func, '__name__', func)}{signature} ({exc}); give one input per "
            f"parameter {params}."
        ) from None


def node(
    func: Callable[..., Any],
    inputs: Spec,
    outputs: Spec,
    *,
    name: str | None = None,
    tags: str | Sequence[str] | None = None,
) -> Node:
    """Wrap ``func`` as a pipeline node reading ``inputs`` and writing ``outputs``.

    Example:
        >>> node(train, ["features", "params:model"], "model", name="train")

    Raises:
        InvalidInput: ``func`` is not callable, a name is malformed, or the inputs do not
            match the function's signature.
    """
    if not callable(func):
        raise InvalidInput(
            f"node(func={func!r}): func must be a function; pass the function itself, not "
            "its result."
        )
    label = name or getattr(func, "__name__", None) or type(func).__name__
    if label == "<lambda>":
        label = "lambda"
    where = f"node {label!r}"
    if not _NAME.match(label):
        raise InvalidInput(f"{where}: the name is not valid; use letters, digits, '_', '.', '-'.")
    ins, arg_names = _names(inputs, "inputs", where)
    outs, output_keys = _names(outputs, "outputs", where)
    _check_signature(func, ins, arg_names, where)
    tag_set = frozenset([tags] if isinstance(tags, str) else tags or ())
    return Node(
        func=func,
        inputs=ins,
        outputs=outs,
        name=label,
        tags=tag_set,
        arg_names=arg_names,
        output_keys=output_keys,
    )
