"""FeatureService: the named list of features a model uses.

>>> fs.FeatureService("delay_model", features=["weather:*", "carrier_delays:dep_delay_mean_7d"])

``"view:*"`` stands for every feature of the view (expanded when the service is applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.features.entity import check_name


class FeatureService:
    """A model's features, by reference ``"view:feature"``.

    Raises:
        InvalidInput: a name that is not valid, no features, or an item that is not a
            ``"view:feature"`` reference.
    """

    def __init__(self, name: str, *, features: Sequence[str], description: str = "") -> None:
        self.name = check_name(name, "feature service")
        self.features = tuple(features)
        if not self.features:
            raise InvalidInput(f"feature service '{name}' lists no features.")
        for ref in self.features:
            if not isinstance(ref, str) or ref.count(":") != 1:
                raise InvalidInput(
                    f"feature service '{name}': {ref!r} is not a feature reference; write 'view:feature'."
                )
        self.description = description

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "features": list(self.features), "description": self.description}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureService:
        return cls(data["name"], features=data["features"], description=data.get("description", ""))

    def __repr__(self) -> str:
        return f"FeatureService({self.name!r}, features={list(self.features)!r})"
