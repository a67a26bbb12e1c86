"""The ``xgboost`` and ``lightgbm`` flavors: native boosters in their own formats.

An ``xgboost.Booster`` is stored as UBJSON (``model.ubj``, XGBoost's own binary JSON),
a ``lightgbm.Booster`` as LightGBM's model text (``model.txt``); neither is a Python
object, so loading parses data and runs nothing. Their scikit-learn wrappers
(``XGBClassifier``, ``LGBMClassifier``...) stay in the ``sklearn`` flavor.

The loaded model is a :class:`BoosterModel`: ``predict(frame)`` takes the booster's
features by name, checks them, and returns what the booster predicts (probabilities for
a logistic objective, values for a regression).
"""

from __future__ import annotations

import sys
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors.base import ModelFiles, Saved

XGBOOST_FILE = "model.ubj"
LIGHTGBM_FILE = "model.txt"


def flavor_of(model: Any) -> str | None:
    """``xgboost`` or ``lightgbm`` for their native boosters, else None (no import)."""
    xgboost = sys.modules.get("xgboost")
    if xgboost is not None and isinstance(model, xgboost.Booster):
        return "xgboost"
    lightgbm = sys.modules.get("lightgbm")
    if lightgbm is not None and isinstance(model, lightgbm.Booster):
        return "lightgbm"
    return None


def save(model: Any, flavor: str) -> Saved:
    """The booster in its own format, and the feature names it expects."""
    if flavor == "xgboost":
        data = bytes(model.save_raw(raw_format="ubj"))
        features = list(model.feature_names or [])
        return Saved(
            {XGBOOST_FILE: data},
            {"model_file": XGBOOST_FILE, "features": features},
            ("xgboost",),
            BoosterModel(model, flavor, features, "model"),
        )
    data = model.model_to_string().encode()
    features = list(model.feature_name())
    return Saved(
        {LIGHTGBM_FILE: data},
        {"model_file": LIGHTGBM_FILE, "features": features},
        ("lightgbm",),
        BoosterModel(model, flavor, features, "model"),
    )


def load(flavor: str, files: ModelFiles, meta: dict[str, Any], label: str) -> BoosterModel:
    """The booster read back from its own format."""
    data = files.read(str(meta["model_file"]))
    booster: Any
    try:
        if flavor == "xgboost":
            import xgboost

            booster = xgboost.Booster()
            booster.load_model(bytearray(data))
        else:
            import lightgbm

            booster = lightgbm.Booster(model_str=data.decode())
    except ImportError:
        version = dict(meta.get("library_versions") or {}).get(flavor)
        pin = f"{flavor}=={version}" if version else flavor
        raise InvalidInput(
            f"{label} is a {flavor} booster and {flavor} is not installed; "
            f"install it: pip install '{pin}'."
        ) from None
    except Exception as exc:
        raise InvalidInput(
            f"{label}: its {flavor} model file cannot be read ({exc}); log the model again."
        ) from None
    return BoosterModel(booster, flavor, list(meta.get("features") or []), label)


class BoosterModel:
    """A native booster behind ``predict(DataFrame)``, its input checked first."""

    def __init__(self, booster: Any, flavor: str, features: list[str], label: str) -> None:
        self.booster = booster
        self.flavor = flavor
        self.features = features
        self.label = label

    def _matrix(self, frame: Any) -> Any:
        import numpy as np
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame(frame)
        count = (
            self.booster.num_features() if self.flavor == "xgboost" else self.booster.num_feature()
        )
        if self.features:
            missing = [name for name in self.features if name not in frame.columns]
            if missing:
                raise InvalidInput(
                    f"{self.label} needs feature {missing[0]!r}, which the input lacks; send "
                    f"the columns {', '.join(self.features)}."
                )
            frame = frame[self.features]
        elif frame.shape[1] != count:
            raise InvalidInput(
                f"{self.label} takes {count} features, the input has {frame.shape[1]} columns; "
                "send one column per feature, in training order."
            )
        for name in frame.columns:
            kind = frame[name].dtype.kind
            if kind not in "biuf":
                raise InvalidInput(
                    f"{self.label}: feature {name!r} has dtype {frame[name].dtype}, the booster "
                    "takes numbers; encode it as the training data did."
                )
        return np.ascontiguousarray(frame.to_numpy(dtype=np.float32))

    def predict(self, frame: Any) -> Any:
        matrix = self._matrix(frame)
        if self.flavor == "xgboost":
            import xgboost

            names = self.features or None
            return self.booster.predict(xgboost.DMatrix(matrix, feature_names=names))
        return self.booster.predict(matrix)
