"""A plain Python model (not scikit-learn) for the python_function flavor tests."""

from __future__ import annotations

from typing import Any


class ThresholdModel:
    """Predicts 1 when ``column`` exceeds ``threshold``."""

    def __init__(self, column: str, threshold: float) -> None:
        self.column = column
        self.threshold = threshold

    def predict(self, frame: Any) -> Any:
        return (frame[self.column] > self.threshold).astype(int).to_numpy()
