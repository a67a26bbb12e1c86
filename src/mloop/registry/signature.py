"""Model signatures: the names and types of a model's inputs and outputs.

Inferred from an input example or the training data and stored with each model version;
serving checks requests against it so that a missing or wrongly typed field is a clear
client error instead of a crash inside the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mloop.core.errors import InvalidInput

# logical column types, close to MLflow's ColSpec types
TYPES = (
    "boolean",
    "integer",
    "long",
    "float",
    "double",
    "string",
    "datetime",
    "binary",
    "category",
)


@dataclass(frozen=True)
class ColSpec:
    """A column, or with ``shape`` a tensor (``-1`` for the batch dimension)."""

    name: str
    type: str
    optional: bool = False
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, "type": self.type, "optional": self.optional}
        if self.shape is not None:
            spec["shape"] = list(self.shape)
        return spec

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColSpec:
        shape = data.get("shape")
        return cls(
            str(data["name"]),
            str(data["type"]),
            bool(data.get("optional", False)),
            tuple(int(n) for n in shape) if shape is not None else None,
        )


@dataclass(frozen=True)
class Signature:
    """The columns a model takes (``inputs``) and returns (``outputs``), checked when it is served."""

    inputs: tuple[ColSpec, ...]
    outputs: tuple[ColSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        return cls(
            inputs=tuple(ColSpec.from_dict(c) for c in data.get("inputs", [])),
            outputs=tuple(ColSpec.from_dict(c) for c in data.get("outputs", [])),
        )

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]


def _logical_type(dtype: Any) -> str:
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "long" if getattr(dtype, "itemsize", 8) >= 8 else "integer"
    if kind == "f":
        return "double" if getattr(dtype, "itemsize", 8) >= 8 else "float"
    if kind == "M":
        return "datetime"
    if kind == "S":
        return "binary"
    return "string"


def _as_frame(data: Any, what: str) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else "prediction")
    if isinstance(data, dict):
        return pd.DataFrame(data if all(np.ndim(v) > 0 for v in data.values()) else [data])
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return pd.DataFrame(data)
    array = np.asarray(data)
    if array.ndim == 1:
        array = array.reshape(-1, 1) if what == "outputs" else array.reshape(1, -1)
    if array.ndim != 2:
        raise InvalidInput(
            f"cannot infer a signature from {what} with {array.ndim} dimensions; pass a DataFrame."
        )
    return pd.DataFrame(array, columns=[str(i) for i in range(array.shape[1])])


def infer_signature(inputs: Any, outputs: Any = None) -> Signature:
    """Signature of example ``inputs`` (and ``outputs``): a DataFrame, array, dict or records.

    >>> infer_signature(pd.DataFrame({"distance": [100], "carrier": ["UA"]})).input_names
    ['distance', 'carrier']
    """
    frame = _as_frame(inputs, "inputs")
    cols = tuple(
        ColSpec(str(name), _logical_type(frame[name].dtype), bool(frame[name].isna().any()))
        for name in frame.columns
    )
    out: tuple[ColSpec, ...] = ()
    if outputs is not None:
        out_frame = _as_frame(outputs, "outputs")
        if list(out_frame.columns) == ["0"]:
            out_frame.columns = ["prediction"]
        out = tuple(ColSpec(str(n), _logical_type(out_frame[n].dtype)) for n in out_frame.columns)
    return Signature(cols, out)
