"""The ``xgboost`` and ``lightgbm`` flavors: native boosters in their own formats.

An ``xgboost.Booster`` is stored as UBJSON (``model.ubj``, XGBoost's own binary JSON),
a ``lightgbm.Booster`` as LightGBM's model text (``model.txt``); neither is a Python
object, so loading parses data and runs nothing. Their scikit-learn wrappers
(``XGBClassifier``, ``LGBMClassifier``...) stay in the ``sklearn`` flavor.

The loaded model is a :class:`BoosterModel`: ``predict(frame)`` takes the booster's
features by name and checks them. A classifier's booster (XGBoost ``binary:logistic`` or
``multi:softprob``, LightGBM ``binary``, ``multiclass`` or ``multiclassova``) keeps
scikit-learn's contract, like every mloop model: ``predict`` gives the class (the most
probable one, the first on a tie, as ``XGBClassifier`` does), ``predict_proba`` one column
per class of ``classes_``. Other objectives return what the booster predicts (decision
0153).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors.base import ModelFiles, Saved

XGBOOST_FILE = "model.ubj"
LIGHTGBM_FILE = "model.txt"
_XGB_PROBABILITIES = ("binary:logistic", "multi:softprob")
_LGB_PROBABILITIES = ("binary", "multiclass", "multiclassova")


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
        classes = _xgboost_classes(model)
        meta = {"model_file": XGBOOST_FILE, "features": features, "classes": classes}
        predictor = booster_model(model, flavor, features, "model", classes)
        return Saved({XGBOOST_FILE: data}, meta, ("xgboost",), predictor)
    text = model.model_to_string()
    features = list(model.feature_name())
    classes = _lightgbm_classes(text)
    meta = {"model_file": LIGHTGBM_FILE, "features": features, "classes": classes}
    predictor = booster_model(model, flavor, features, "model", classes)
    return Saved({LIGHTGBM_FILE: text.encode()}, meta, ("lightgbm",), predictor)


def _xgboost_classes(booster: Any) -> list[int] | None:
    """``[0, 1]`` (or ``0..k-1``) when the objective gives class probabilities."""
    learner = json.loads(booster.save_config())["learner"]
    if learner["objective"]["name"] not in _XGB_PROBABILITIES:
        return None
    count = int(learner["learner_model_param"].get("num_class", "0"))
    return list(range(max(count, 2)))


def _lightgbm_classes(text: str) -> list[int] | None:
    """The classes of a LightGBM model text whose objective gives probabilities."""
    header = dict(
        line.split("=", 1) for line in text.split("\n\n", 1)[0].splitlines() if "=" in line
    )
    if header.get("objective", "").split(" ")[0] not in _LGB_PROBABILITIES:
        return None
    return list(range(max(int(header.get("num_class", "1")), 2)))


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
    classes = meta.get("classes")
    return booster_model(booster, flavor, list(meta.get("features") or []), label, classes)


def booster_model(
    booster: Any, flavor: str, features: list[str], label: str, classes: list[int] | None
) -> BoosterModel:
    """A :class:`BoosterClassifier` when the booster gives class probabilities."""
    if classes is None:
        return BoosterModel(booster, flavor, features, label)
    return BoosterClassifier(booster, flavor, features, label, classes)


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

    def _raw(self, frame: Any) -> Any:
        matrix = self._matrix(frame)
        if self.flavor == "xgboost":
            import xgboost

            names = self.features or None
            return self.booster.predict(xgboost.DMatrix(matrix, feature_names=names))
        return self.booster.predict(matrix)

    def predict(self, frame: Any) -> Any:
        return self._raw(frame)


class BoosterClassifier(BoosterModel):
    """A booster whose objective gives class probabilities, with scikit-learn's contract."""

    decided_by_proba = True  # serving takes the class from the probabilities: one call

    def __init__(
        self, booster: Any, flavor: str, features: list[str], label: str, classes: list[int]
    ) -> None:
        import numpy as np

        super().__init__(booster, flavor, features, label)
        self.classes_ = np.asarray(classes)

    def predict(self, frame: Any) -> Any:
        """The most probable class of each row (the first on a tie)."""
        return self.classes_.take(self.predict_proba(frame).argmax(axis=1))

    def predict_proba(self, frame: Any) -> Any:
        """One probability column per class of ``classes_``."""
        import numpy as np

        raw = np.asarray(self._raw(frame), dtype=np.float64)
        return np.column_stack([1.0 - raw, raw]) if raw.ndim == 1 else raw
