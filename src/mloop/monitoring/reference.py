"""The reference of a model version (a value): a profile of its training data, predictions
and labels, which windows of the prediction log are compared with.

Made and stored by :mod:`mloop.monitoring.references` (``set_reference``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mloop.data import Profile

__all__ = ["LABEL", "Reference", "spec_json"]

LABEL = "label"


@dataclass
class Reference:
    """What windows of a model version are compared with."""

    model_name: str
    model_version: int
    profile: Profile = field(repr=False)
    features: list[str]
    outputs: list[str]
    task: str
    label: str | None = None
    importance: dict[str, float] | None = None
    classes: list[Any] | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    slices: list[dict[str, Any]] = field(default_factory=list, repr=False)
    num_rows: int = 0
    created_at: int = 0

    @property
    def slice_edges(self) -> dict[str, list[float]]:
        """Quartile cuts of the numeric features (the bins slices are compared on)."""
        edges: dict[str, list[float]] = {}
        for name in self.features:
            column = self.profile.columns.get(name)
            if column is not None and column.kind == "numeric" and column.count:
                numeric: Any = column  # a numeric column profile: it has quantiles
                cuts = numeric.quantiles([0.25, 0.5, 0.75]) or []
                edges[name] = sorted({float(c) for c in cuts})
        return edges

    def spec(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "outputs": self.outputs,
            "task": self.task,
            "label": self.label,
            "importance": self.importance,
            "classes": self.classes,
            "metrics": self.metrics,
            "slices": self.slices,
        }


def spec_json(reference: Reference) -> str:
    return json.dumps(reference.spec(), default=str)
