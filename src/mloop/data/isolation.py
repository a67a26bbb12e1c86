"""An IsolationForest detector (scikit-learn): records that random splits isolate quickly.

The score is scikit-learn's ``-score_samples`` (about 0.3-0.45 for normal records, towards
1 for anomalies); missing values are replaced by the reference median. A flagged record is
explained by the features its isolation paths split on, each split weighted by how short
the path is (a feature that isolates a record in two splits explains more than one used
deep in a long path), summed over the trees and normalised to shares.

For streams, :meth:`update` keeps a bounded reservoir of normal records and refits the
forest on it once as many new records as the reservoir holds have arrived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.data.anomaly import Detector

if TYPE_CHECKING:
    import numpy as np

__all__ = ["IsolationForestDetector"]


class IsolationForestDetector(Detector):
    """scikit-learn's IsolationForest behind the detector contract, with per-record explanations."""

    def __init__(
        self,
        features: list[str] | None = None,
        quantile: float = 0.999,
        n_estimators: int = 100,
        max_samples: int = 256,
        reservoir: int = 10_000,
        random_state: int = 0,
    ) -> None:
        super().__init__(features, quantile)
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.reservoir_size = reservoir
        self.random_state = random_state
        self.forest: Any = None
        self.median: np.ndarray | None = None
        self._reservoir: np.ndarray | None = None
        self._seen = 0
        self._since_fit = 0

    def _fit(self, matrix: np.ndarray) -> None:
        import numpy as np
        from sklearn.ensemble import IsolationForest

        with np.errstate(all="ignore"):
            median = np.nanmedian(matrix, axis=0)
        self.median = np.nan_to_num(median)
        self.forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, matrix.shape[0]),
            random_state=self.random_state,
        ).fit(self._impute(matrix))
        rng = np.random.default_rng(self.random_state)
        keep = min(self.reservoir_size, matrix.shape[0])
        self._reservoir = matrix[rng.choice(matrix.shape[0], keep, replace=False)]
        self._seen = matrix.shape[0]
        self._since_fit = 0

    def _impute(self, matrix: np.ndarray) -> np.ndarray:
        import numpy as np

        assert self.median is not None
        missing = np.isnan(matrix)
        if not missing.any():
            return matrix
        return np.where(missing, self.median, matrix)

    def _score(self, matrix: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.forest is None:
            raise InvalidInput("IsolationForestDetector is not fitted; call fit(reference) first.")
        return np.asarray(-self.forest.score_samples(self._impute(matrix)), dtype=np.float64)

    def _contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Path-length-weighted split counts per feature, as shares of each record's total."""
        import numpy as np

        records = self._impute(matrix)
        shares = np.zeros(records.shape, dtype=np.float64)
        for tree, columns in zip(
            self.forest.estimators_, self.forest.estimators_features_, strict=True
        ):
            paths = tree.decision_path(records[:, columns]).tocsr()
            features = tree.tree_.feature
            lengths = np.diff(paths.indptr).astype(np.float64)  # nodes on each path, leaf included
            for row in range(records.shape[0]):
                nodes = paths.indices[paths.indptr[row] : paths.indptr[row + 1]]
                split = features[nodes]
                split = split[split >= 0]
                np.add.at(shares[row], columns[split], 1.0 / lengths[row])
        totals = shares.sum(axis=1, keepdims=True)
        return np.divide(shares, totals, out=np.zeros_like(shares), where=totals > 0)

    def _expected(self) -> np.ndarray:
        assert self.median is not None
        return self.median

    def _adapt(self, matrix: np.ndarray) -> None:
        import numpy as np

        assert self._reservoir is not None
        rng = np.random.default_rng(self.random_state + self._seen)
        # reservoir sampling, vectorised: record i of the stream replaces a slot with probability k/i
        positions = self._seen + np.arange(1, matrix.shape[0] + 1)
        slots = (rng.random(matrix.shape[0]) * positions).astype(np.int64)
        if self._reservoir.shape[0] < self.reservoir_size:
            room = self.reservoir_size - self._reservoir.shape[0]
            self._reservoir = np.vstack([self._reservoir, matrix[:room]])
            matrix, slots = matrix[room:], slots[room:]
        take = slots < self.reservoir_size
        self._reservoir[slots[take]] = matrix[take]
        self._seen += int(positions.size)
        self._since_fit += int(positions.size)
        if self._since_fit >= self.reservoir_size:
            self._refit()

    def _refit(self) -> None:
        """Refit the forest and its threshold on the reservoir of recent normal records."""
        import numpy as np
        from sklearn.ensemble import IsolationForest

        assert self._reservoir is not None
        sample = self._reservoir
        self.forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, sample.shape[0]),
            random_state=self.random_state + self._seen,
        ).fit(self._impute(sample))
        self.threshold = float(np.quantile(self._score(sample), self.quantile))
        self._since_fit = 0
