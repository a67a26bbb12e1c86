"""The model both servers serve: one scikit-learn pipeline, trained the same way in each venv."""

from __future__ import annotations

from typing import Any

FEATURES = ["distance", "hour", "carrier"]


def make_model() -> Any:
    """One-hot carrier + scaled numbers into a logistic regression (deterministic fit)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return make_pipeline(
        ColumnTransformer(
            [
                ("carrier", OneHotEncoder(handle_unknown="ignore"), ["carrier"]),
                ("numbers", StandardScaler(), ["distance", "hour"]),
            ]
        ),
        LogisticRegression(max_iter=300),
    )
