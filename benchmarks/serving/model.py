"""The models both servers serve: scikit-learn, trained the same way in each venv.

``pipeline``: one-hot carrier + scaled numbers into a logistic regression (the model's own
cost dominates: a ColumnTransformer runs thousands of Python calls per predict).
``linear``: a logistic regression on the two numeric fields (the server's cost dominates).
"""

from __future__ import annotations

from typing import Any

FEATURES = {"pipeline": ["distance", "hour", "carrier"], "linear": ["distance", "hour"]}
RECORDS = {
    "pipeline": {"distance": 719.0, "hour": 6, "carrier": "UA"},
    "linear": {"distance": 719.0, "hour": 6},
}


def make_model(kind: str = "pipeline") -> Any:
    """A fresh, unfitted model of ``kind`` (deterministic fit)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if kind == "linear":
        return LogisticRegression(max_iter=300)
    return make_pipeline(
        ColumnTransformer(
            [
                ("carrier", OneHotEncoder(handle_unknown="ignore"), ["carrier"]),
                ("numbers", StandardScaler(), ["distance", "hour"]),
            ]
        ),
        LogisticRegression(max_iter=300),
    )
