"""The tables behind the plots: confusion matrix, ROC and PR curves, calibration bins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.evaluation._inputs import Predictions


def binary_tables(
    is_pos: np.ndarray, said_pos: np.ndarray, preds: Predictions, positive: Any
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame | None]:
    import numpy as np
    import pandas as pd

    negative = next(c for c in preds.classes if c != positive)
    confusion = pd.DataFrame(
        [
            [int((~is_pos & ~said_pos).sum()), int((~is_pos & said_pos).sum())],
            [int((is_pos & ~said_pos).sum()), int((is_pos & said_pos).sum())],
        ],
        index=pd.Index([str(negative), str(positive)], name="actual"),
        columns=pd.Index([str(negative), str(positive)], name="predicted"),
    )
    curves: dict[str, Any] = {}
    calibration = None
    if preds.scores is not None and is_pos.any() and (~is_pos).any():
        from sklearn.metrics import precision_recall_curve, roc_curve

        fpr, tpr, _ = roc_curve(is_pos, preds.scores)
        precision, recall, _ = precision_recall_curve(is_pos, preds.scores)
        curves["roc"] = thin({"fpr": fpr, "tpr": tpr})
        curves["pr"] = thin({"recall": recall, "precision": precision})
    if preds.scores is not None and preds.score_is_probability:
        edges = np.linspace(0, 1, 11)
        which = np.clip(np.digitize(preds.scores, edges[1:-1]), 0, 9)
        count = np.bincount(which, minlength=10)
        mean_p = np.bincount(which, weights=preds.scores, minlength=10)
        frac = np.bincount(which, weights=is_pos.astype(float), minlength=10)
        keep = count > 0
        calibration = pd.DataFrame(
            {
                "bin_low": edges[:-1][keep],
                "bin_high": edges[1:][keep],
                "count": count[keep],
                "mean_predicted": mean_p[keep] / count[keep],
                "fraction_positive": frac[keep] / count[keep],
            }
        )
    return confusion, curves, calibration


def thin(points: dict[str, np.ndarray], limit: int = 400) -> dict[str, list[float]]:
    """At most ``limit`` points of a curve (enough to draw it, small enough to store)."""
    import numpy as np

    size = len(next(iter(points.values())))
    keep = np.unique(np.linspace(0, size - 1, min(size, limit)).astype(int))
    return {k: [float(x) for x in v[keep]] for k, v in points.items()}


def confusion(y: np.ndarray, predicted: np.ndarray, classes: list[Any]) -> pd.DataFrame:
    import pandas as pd
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y, predicted, labels=classes)
    names = [str(c) for c in classes]
    return pd.DataFrame(
        matrix,
        index=pd.Index(names, name="actual"),
        columns=pd.Index(names, name="predicted"),
    )
