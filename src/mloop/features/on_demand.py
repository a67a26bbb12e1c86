"""OnDemandFeatureView: features computed at request time from other features and request data.

The same Python function runs on the training set (all rows at once) and on each online
request, so both see the same values. It takes a pandas DataFrame whose columns are the
input features (by feature name) and the request fields, and returns a DataFrame with one
column per output.

>>> def temp_c(df):
...     return pd.DataFrame({"temp_c": (df["temp"] - 32) / 1.8})
>>> fs.OnDemandFeatureView("derived", inputs=["weather:temp"], function=temp_c, outputs={"temp_c": "float64"})
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mloop.core.errors import InvalidInput, NotFound
from mloop.features import dtypes
from mloop.features.entity import check_name
from mloop.features.feature_view import Feature


class OnDemandFeatureView:
    """Request-time features: ``function(inputs + request fields) -> outputs``."""

    def __init__(
        self,
        name: str,
        *,
        inputs: Sequence[str],
        function: Callable[[Any], Any],
        outputs: Mapping[str, str] | Sequence[str],
        request: Sequence[str] = (),
        description: str = "",
    ) -> None:
        self.name = check_name(name, "on-demand feature view")
        self.inputs = tuple(inputs)
        for ref in self.inputs:
            if ":" not in ref:
                raise InvalidInput(
                    f"on-demand view '{name}': input {ref!r} must name a feature as 'view:feature'."
                )
        self.request = tuple(request)
        if not callable(function):
            raise InvalidInput(f"on-demand view '{name}': function must be callable.")
        self.function = function
        pairs = (
            outputs.items()
            if isinstance(outputs, Mapping)
            else ((o, dtypes.FLOAT) for o in outputs)
        )
        self.features = tuple(Feature(n, t) for n, t in pairs)
        if not self.features:
            raise InvalidInput(f"on-demand view '{name}' declares no outputs.")
        self.description = description

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def function_ref(self) -> str:
        return f"{self.function.__module__}:{self.function.__qualname__}"

    def _function_hash(self) -> str:
        try:
            code = inspect.getsource(self.function)
        except (OSError, TypeError):
            code = self.function_ref
        return hashlib.sha256(code.encode()).hexdigest()

    def compute(self, frame: Any) -> Any:
        """Run the function on ``frame`` and check it returned every declared output."""
        import pandas as pd

        result = self.function(frame)
        if isinstance(result, pd.Series):
            result = result.to_frame(self.features[0].name)
        if not isinstance(result, pd.DataFrame):
            raise InvalidInput(
                f"on-demand view '{self.name}': {self.function_ref} returned {type(result).__name__}; "
                "it must return a pandas DataFrame with the declared output columns."
            )
        missing = [n for n in self.feature_names if n not in result.columns]
        if missing:
            raise InvalidInput(
                f"on-demand view '{self.name}': {self.function_ref} did not return {missing}; "
                f"it returned {list(result.columns)}."
            )
        if len(result) != len(frame):
            raise InvalidInput(
                f"on-demand view '{self.name}': {self.function_ref} returned {len(result)} rows for "
                f"{len(frame)}; return one row per input row."
            )
        return result[self.feature_names].set_axis(frame.index)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "inputs": list(self.inputs),
            "request": list(self.request),
            "outputs": [[f.name, f.dtype] for f in self.features],
            "function": self.function_ref,
            "function_sha256": self._function_hash(),
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OnDemandFeatureView:
        module_name, _, qualname = data["function"].partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError):
            raise NotFound(
                f"on-demand view '{data['name']}' needs the function {data['function']}, which cannot "
                "be imported here; apply the definitions in this process or make the module importable."
            ) from None
        return cls(
            data["name"],
            inputs=data["inputs"],
            function=target,
            outputs=dict(data["outputs"]),
            request=data.get("request", []),
            description=data.get("description", ""),
        )

    def __repr__(self) -> str:
        return f"OnDemandFeatureView({self.name!r}, function={self.function_ref!r})"
