"""Calling a model on rows, with one clear error when it refuses them for missing values.

Many scikit-learn models refuse NaN inputs with a ``ValueError`` that does not name the
column; others (gradient boosting, trees in recent versions) accept them. So rows are not
refused up front: the model decides, and when it refuses rows that hold missing values, the
error names the columns and their counts. ``evaluate``, gates (and so ``promote``), fairness,
explanations and the retraining loop's comparison all call models through here.

>>> call_model(model, X, "predict_proba")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["call_model", "missing_values"]


def missing_values(frame: pd.DataFrame) -> dict[str, int]:
    """The columns of ``frame`` with missing values, and how many each has."""
    counts = frame.isna().sum()
    return {str(name): int(count) for name, count in counts.items() if count}


def call_model(model: Any, X: pd.DataFrame, method: str = "predict", label: str = "") -> Any:
    """``model.<method>(X)``; a refusal of rows with missing values names the columns.

    Raises:
        InvalidInput: the model raised ``ValueError`` and ``X`` has missing values.
    """
    try:
        return getattr(model, method)(X)
    except ValueError as exc:
        missing = missing_values(X) if hasattr(X, "isna") else {}
        if not missing:
            raise
        name = label or type(getattr(model, "native", model)).__name__
        listed = ", ".join(f"{column!r} ({count:,} rows)" for column, count in missing.items())
        raise InvalidInput(
            f"model {name} cannot score rows with missing values; missing in column"
            f"{'s' if len(missing) > 1 else ''} {listed}. Fill or drop those rows first, or use "
            "a model that accepts missing values (for example one with an imputer in its pipeline)."
        ) from exc
