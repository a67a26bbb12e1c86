"""Anomaly detection on records: the detector contract and what a flag says.

Every detector keeps one small contract (like scikit-learn's estimators)::

    detector = RobustDetector().fit(reference)      # learn what normal looks like
    scores = detector.score(batch)                  # one score per record, higher = stranger
    flags = detector.flag(batch)                    # records above the threshold, worst first,
    flags[0].explain()                              # each with its most anomalous features
    detector.update(next_batch)                     # follow a stream (scores, then adapts)

The threshold is a quantile of the reference's own scores (``quantile=0.999`` flags about
one reference record in a thousand). Records are rows of a DataFrame (numeric columns
are the features unless ``features`` names them) or of a 2-D numpy array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["Contribution", "Detector", "Flag"]


@dataclass(frozen=True)
class Contribution:
    """How much one feature makes a record anomalous."""

    feature: str
    value: float | None
    expected: float | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": self.value,
            "expected": self.expected,
            "score": self.score,
        }


@dataclass(frozen=True)
class Flag:
    """A record scored above the threshold, with its most anomalous features first."""

    index: Any
    position: int
    score: float
    threshold: float
    features: tuple[Contribution, ...]

    def explain(self) -> str:
        """One line for people: ``row 1009: score 55.3 > 4.2; wind_speed = 1048 (typical 10.4, 153)``."""
        parts = [
            f"{c.feature} = {_short(c.value)} (typical {_short(c.expected)}, {c.score:.3g})"
            for c in self.features
        ]
        return f"row {self.index!r}: score {self.score:.3g} > {self.threshold:.3g}; " + ", ".join(
            parts
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "position": self.position,
            "score": self.score,
            "threshold": self.threshold,
            "features": [c.to_dict() for c in self.features],
        }


def _short(value: float | None) -> str:
    return "null" if value is None else f"{value:.4g}"


class Detector:
    """Base of the detectors: input handling, thresholds and flags; subclasses score."""

    def __init__(self, features: list[str] | None = None, quantile: float = 0.999) -> None:
        if not 0.0 < quantile < 1.0:
            raise InvalidInput(f"quantile = {quantile} must be between 0 and 1 (e.g. 0.999).")
        self.features = list(features) if features is not None else None
        self.quantile = quantile
        self.threshold: float | None = None

    # -- to implement -----------------------------------------------------------------------

    def _fit(self, matrix: np.ndarray) -> None:
        raise NotImplementedError

    def _score(self, matrix: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per record and feature, how anomalous the value is (same shape as ``matrix``)."""
        raise NotImplementedError

    def _expected(self) -> np.ndarray:
        """A typical value per feature (shown in explanations)."""
        raise NotImplementedError

    def _adapt(self, matrix: np.ndarray) -> None:
        raise NotImplementedError

    # -- the contract -----------------------------------------------------------------------

    def fit(self, reference: Any) -> Detector:
        """Learn normal records from ``reference`` and set the threshold from its scores."""
        import numpy as np

        matrix, _ = self._matrix(reference, fitting=True)
        if matrix.shape[0] < 2:
            raise InvalidInput(
                f"{type(self).__name__}.fit needs at least 2 reference records, got {matrix.shape[0]}."
            )
        self._fit(matrix)
        self.threshold = float(np.quantile(self._score(matrix), self.quantile))
        return self

    def score(self, batch: Any) -> np.ndarray:
        """One anomaly score per record (higher is stranger)."""
        matrix, _ = self._matrix(batch)
        return self._score(matrix)

    def is_anomaly(self, batch: Any) -> np.ndarray:
        """A boolean per record: score above the threshold."""
        return self.score(batch) > self._threshold()

    def flag(self, batch: Any, top: int = 3) -> list[Flag]:
        """Records above the threshold, highest score first, each explained by its ``top`` features."""
        import numpy as np

        matrix, index = self._matrix(batch)
        scores = self._score(matrix)
        threshold = self._threshold()
        positions = np.flatnonzero(scores > threshold)
        positions = positions[np.argsort(-scores[positions], kind="stable")]
        return self._flags(matrix, index, scores, positions, threshold, top)

    def rank(self, batch: Any, top: int = 3, limit: int = 10) -> list[Flag]:
        """The ``limit`` highest-scoring records, flagged or not, explained like :meth:`flag`."""
        import numpy as np

        matrix, index = self._matrix(batch)
        scores = self._score(matrix)
        positions = np.argsort(-scores, kind="stable")[:limit]
        return self._flags(matrix, index, scores, positions, self._threshold(), top)

    def update(self, batch: Any) -> np.ndarray:
        """Score a batch of a stream, then adapt to it (flagged records do not teach the detector)."""
        matrix, _ = self._matrix(batch)
        scores = self._score(matrix)
        normal = matrix[scores <= self._threshold()]
        if normal.shape[0]:
            self._adapt(normal)
        return scores

    # -- helpers ----------------------------------------------------------------------------

    def _threshold(self) -> float:
        if self.threshold is None:
            raise InvalidInput(f"{type(self).__name__} is not fitted; call fit(reference) first.")
        return self.threshold

    def _flags(
        self,
        matrix: np.ndarray,
        index: Any,
        scores: np.ndarray,
        positions: np.ndarray,
        threshold: float,
        top: int,
    ) -> list[Flag]:
        import numpy as np

        if positions.size == 0:
            return []
        assert self.features is not None
        contributions = self._contributions(matrix[positions])
        expected = self._expected()
        flags = []
        for row, position in enumerate(positions.tolist()):
            order = np.argsort(-np.nan_to_num(contributions[row], nan=-1.0), kind="stable")[:top]
            features = tuple(
                Contribution(
                    feature=self.features[j],
                    value=_float(matrix[position, j]),
                    expected=_float(expected[j]),
                    score=float(contributions[row, j]),
                )
                for j in order.tolist()
            )
            label = index[position] if index is not None else position
            flags.append(
                Flag(_python(label), position, float(scores[position]), threshold, features)
            )
        return flags

    def _matrix(self, data: Any, fitting: bool = False) -> tuple[np.ndarray, pd.Index | None]:
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        if isinstance(data, pa.Table):
            data = data.to_pandas()
        if isinstance(data, pd.DataFrame):
            if self.features is None:
                if not fitting:
                    raise InvalidInput(
                        f"{type(self).__name__} is not fitted; call fit(reference) first."
                    )
                numeric = [
                    c
                    for c in data.columns
                    if pd.api.types.is_numeric_dtype(data[c])
                    and not pd.api.types.is_bool_dtype(data[c])
                ]
                if not numeric:
                    raise InvalidInput(
                        "the reference has no numeric columns to learn from; name the features."
                    )
                self.features = [str(c) for c in numeric]
            missing = [f for f in self.features if f not in data.columns]
            if missing:
                raise InvalidInput(
                    f"feature {missing[0]!r} is not in the data; the detector was set up with {self.features}."
                )
            try:
                matrix = data[self.features].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                bad = [f for f in self.features if not pd.api.types.is_numeric_dtype(data[f])]
                raise InvalidInput(
                    f"features must be numeric; {bad} are not. Encode them as numbers first."
                ) from None
            return matrix, data.index
        matrix = np.asarray(data, dtype=np.float64)
        if matrix.ndim != 2:
            raise InvalidInput(
                f"records must be a DataFrame or a 2-D array, got an array of shape {matrix.shape}."
            )
        if self.features is None:
            if not fitting:
                raise InvalidInput(
                    f"{type(self).__name__} is not fitted; call fit(reference) first."
                )
            self.features = [f"x{j}" for j in range(matrix.shape[1])]
        if matrix.shape[1] != len(self.features):
            raise InvalidInput(
                f"records have {matrix.shape[1]} features; the detector expects {len(self.features)}."
            )
        return matrix, None


def _float(value: Any) -> float | None:
    value = float(value)
    return None if value != value else value


def _python(value: Any) -> Any:
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value
