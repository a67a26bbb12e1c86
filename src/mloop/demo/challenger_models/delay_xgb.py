"""Flight delays with an XGBoost booster: the airport and carrier as category codes, the
numbers as they are (the booster handles missing values itself)."""

import json

import numpy as np
import pandas as pd
import xgboost


def encode(frame, encoding):
    """The booster's matrix: one column per feature, categories as their training codes."""
    columns = {}
    for name in encoding["features"]:
        if name in encoding["categories"]:
            known = {value: code for code, value in enumerate(encoding["categories"][name])}
            columns[name] = frame[name].map(known).astype("float32")
        else:
            columns[name] = pd.to_numeric(frame[name], errors="coerce").astype("float32")
    return pd.DataFrame(columns, index=frame.index)


class DelayBooster:
    classes_ = np.array([0, 1])
    decided_by_proba = True

    def load_context(self, artifacts):
        with open(artifacts["encoding"]) as stream:
            self.encoding = json.load(stream)
        self.booster = xgboost.Booster()
        self.booster.load_model(artifacts["booster"])

    def predict_proba(self, frame):
        matrix = xgboost.DMatrix(encode(frame, self.encoding))
        late = self.booster.predict(matrix).astype("float64")
        return np.column_stack([1.0 - late, late])

    def predict(self, frame):
        return self.classes_.take(self.predict_proba(frame).argmax(axis=1))
