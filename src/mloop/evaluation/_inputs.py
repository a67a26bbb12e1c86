"""Turning what users pass (a model or URI, a DataFrame or dataset reference) into arrays.

Every check here fails with one :mod:`mloop.core.errors` error naming the argument, the
bad value and the fix, before any model is called.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.data import DatasetVersion
from mloop.data import get_version as dataset_version
from mloop.data import load as load_dataset
from mloop.evaluation.calling import call_model
from mloop.registry import LoadedModel, load_model

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

TASKS = ("classification", "regression")
MAX_CLASS_LABELS = 20


@dataclass
class Model:
    """A model ready to call, with what the registry knows about it."""

    predictor: Any
    label: str  # a URI or a class name, for reports
    version_key: str | None  # "name/3" when the model is a registry version
    input_names: list[str] | None


def resolve_model(model: Any, what: str = "model") -> Model:
    """A LoadedModel, a fitted estimator (anything with ``predict``) or a ``models:/`` URI."""
    if isinstance(model, str):
        if not model.startswith(("models:/", "runs:/")):
            raise InvalidInput(
                f"{what} {model!r} is not a model URI; pass a fitted model, a loaded model or a URI "
                "such as 'models:/delays@champion', 'models:/delays/3' or 'runs:/<run id>/model'."
            )
        model = load_model(model)
    if isinstance(model, LoadedModel):
        names = model.signature.input_names if model.signature else None
        key = model.version.key if model.version is not None else None
        return Model(model, model.uri, key, names or None)
    if not callable(getattr(model, "predict", None)):
        raise InvalidInput(
            f"{what} is a {type(model).__name__}, which has no predict method; pass a fitted "
            "estimator, a loaded model (mloop.load_model) or a model URI."
        )
    names = getattr(model, "feature_names_in_", None)
    return Model(
        model, type(model).__name__, None, [str(n) for n in names] if names is not None else None
    )


def load_frame(data: Any, what: str = "data") -> tuple[pd.DataFrame, str | None]:
    """The rows of a DataFrame, a dataset reference (``flights@3``), version, or file path."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data, None
    if data is None:
        raise InvalidInput(
            f"{what} is missing; pass a DataFrame, a dataset reference such as 'flights@3' or a "
            "Parquet/CSV path."
        )

    if isinstance(data, DatasetVersion):
        return load_dataset(data), data.key
    if isinstance(data, os.PathLike) or (
        isinstance(data, str) and (os.sep in data or data.endswith((".parquet", ".csv")))
    ):
        path = os.fspath(data)
        if not os.path.exists(path):
            raise NotFound(f"{what} file {path!r} does not exist; check the path.")
        frame = pd.read_csv(path) if path.endswith(".csv") else pd.read_parquet(path)
        return frame, path
    if isinstance(data, str):
        version = dataset_version(data)
        return load_dataset(version), version.key
    raise InvalidInput(
        f"{what} is a {type(data).__name__}; pass a pandas DataFrame, a dataset reference such "
        "as 'flights@3', or a Parquet/CSV path."
    )


def check_target(frame: pd.DataFrame, target: Any) -> str:
    if target is None:
        raise InvalidInput(
            "target is missing; pass target='<label column>' (the column holding the true values)."
        )
    if target not in frame.columns:
        columns = [str(c) for c in frame.columns]
        raise InvalidInput(
            f"target column {target!r} is not in the data."
            + did_you_mean(str(target), columns)
            + f" Its columns: {', '.join(columns[:30])}."
        )
    if len(frame) == 0:
        raise InvalidInput("the data has no rows; evaluate on at least one labelled row.")
    missing = int(frame[target].isna().sum())
    if missing:
        raise InvalidInput(
            f"target column {target!r} has {missing:,} missing values; drop or label those rows "
            "before evaluating (a row without a true value cannot be scored)."
        )
    return str(target)


def check_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    names = [str(c) for c in frame.columns]
    for column in columns:
        if column not in frame.columns:
            raise InvalidInput(
                f"{what} column {column!r} is not in the data."
                + did_you_mean(str(column), names)
                + f" Its columns: {', '.join(names[:30])}."
            )


def features(frame: pd.DataFrame, target: str, model: Model) -> pd.DataFrame:
    """The columns the model reads: its signature's inputs, else every column but the target."""
    if model.input_names:
        missing = [c for c in model.input_names if c not in frame.columns]
        if missing:
            raise InvalidInput(
                f"the data lacks columns the model {model.label} needs: {', '.join(missing)}."
                + did_you_mean(missing[0], [str(c) for c in frame.columns])
                + " Pass data with every input column of the model's signature."
            )
        return frame[model.input_names]
    return frame.drop(columns=[target])


def infer_task(task: str | None, model: Model, y: pd.Series) -> str:
    if task is not None:
        if task not in TASKS:
            raise InvalidInput(
                f"task {task!r} is unknown; use 'classification' or 'regression'."
                + did_you_mean(str(task), TASKS)
            )
        return task
    native = getattr(model.predictor, "native", model.predictor)
    estimator_type = getattr(native, "_estimator_type", None)
    try:
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(native):
            estimator_type = "classifier"
        elif is_regressor(native):
            estimator_type = "regressor"
    except Exception:  # not a scikit-learn object
        pass
    if estimator_type == "classifier":
        return "classification"
    if estimator_type == "regressor":
        return "regression"
    kind = y.dtype.kind
    if kind in "bOSUc" or str(y.dtype) in ("category", "str", "string"):
        return "classification"
    if kind in "iu" and y.nunique() <= MAX_CLASS_LABELS:
        return "classification"
    return "regression"


@dataclass
class Predictions:
    """What a model said about the rows."""

    labels: np.ndarray  # predicted labels (classification) or values (regression)
    scores: np.ndarray | None  # positive-class probability or decision score (binary)
    proba: np.ndarray | None  # the probability matrix (multiclass)
    classes: list[Any]
    score_is_probability: bool
    missing_score_reason: str


def predict_regression(model: Model, X: pd.DataFrame) -> np.ndarray:
    import numpy as np

    values = np.asarray(call_model(model.predictor, X, label=model.label), dtype=float).reshape(-1)
    _check_length(values, X, model)
    if np.isnan(values).any():
        raise InvalidInput(
            f"model {model.label} returned {int(np.isnan(values).sum()):,} NaN predictions; "
            "fix the model or the missing inputs before evaluating."
        )
    return values


def _check_length(values: np.ndarray, X: pd.DataFrame, model: Model) -> None:
    if len(values) != len(X):
        raise InvalidInput(
            f"model {model.label} returned {len(values):,} predictions for {len(X):,} rows; "
            "predict must return one value per row."
        )


def predict_classification(
    model: Model,
    X: pd.DataFrame,
    y: pd.Series,
    pos_label: Any,
    threshold: float | None,
) -> tuple[Predictions, Any]:
    """Labels, scores and the positive label; ``threshold`` applies to probabilities."""
    import numpy as np

    predictor = model.predictor
    model_classes = getattr(predictor, "classes_", None)
    proba = None
    reason = ""
    if _has(predictor, "predict_proba"):
        proba = np.asarray(call_model(predictor, X, "predict_proba", model.label), dtype=float)
        if proba.ndim != 2 or len(proba) != len(X):
            raise InvalidInput(
                f"model {model.label}: predict_proba returned shape {proba.shape}; expected "
                f"({len(X)}, number of classes)."
            )
    else:
        reason = f"model {model.label} has no predict_proba"
    observed = list(dict.fromkeys(y.tolist()))
    classes = list(model_classes) if model_classes is not None else sorted(observed, key=_sort_key)
    if proba is not None and len(classes) != proba.shape[1]:
        if proba.shape[1] == 2 and len(classes) <= 2:
            classes = _binary_classes(classes, pos_label)
        else:
            raise InvalidInput(
                f"model {model.label}: predict_proba has {proba.shape[1]} columns but the classes "
                f"are {classes}; give the model a classes_ attribute."
            )
    extra = [v for v in observed if v not in classes]
    if extra and model_classes is not None:
        raise InvalidInput(
            f"target values {extra[:5]} are not classes the model knows ({list(classes)}); "
            "check the target column."
        )
    classes = classes + extra
    if len(classes) <= 2:
        classes = _binary_classes(classes, pos_label)
        positive = _pos_label(pos_label, classes)
        column = classes.index(positive)
        if proba is not None:
            scores = proba[:, column]
            if threshold is None:
                labels = _own_labels(model, X, classes, proba)
            else:
                labels = as_labels(np.where(scores >= threshold, positive, classes[1 - column]))
            return Predictions(labels, scores, proba, classes, True, ""), positive
        if threshold is not None:
            raise InvalidInput(
                f"threshold={threshold} needs probabilities, but {reason}; drop threshold= or "
                "use a model with predict_proba."
            )
        labels = as_labels(np.asarray(call_model(predictor, X, label=model.label)).reshape(-1))
        _check_length(labels, X, model)
        ranking: np.ndarray | None = None
        if _has(predictor, "decision_function"):
            decision = np.asarray(
                call_model(predictor, X, "decision_function", model.label), dtype=float
            ).reshape(-1)
            ranking = decision if column == 1 else -decision
            reason = f"model {model.label} gives decision scores, not probabilities"
        return Predictions(labels, ranking, None, classes, False, reason), positive
    if threshold is not None:
        raise InvalidInput(
            f"threshold={threshold} applies to binary classification; the target has "
            f"{len(classes)} classes. Drop threshold=."
        )
    if proba is not None:
        labels = _own_labels(model, X, classes, proba)
    else:
        labels = as_labels(np.asarray(call_model(predictor, X, label=model.label)).reshape(-1))
    _check_length(labels, X, model)
    return Predictions(labels, None, proba, classes, proba is not None, reason), None


def _own_labels(model: Model, X: pd.DataFrame, classes: list[Any], proba: np.ndarray) -> np.ndarray:
    """The labels the model's own ``predict`` gives, as scikit-learn users expect.

    Ties matter: at a probability of exactly 0.5 scikit-learn's ``predict`` takes the first
    class (the negative one). When ``predict`` answers something other than the classes
    (a model whose ``predict`` returns probabilities), the most probable class is taken,
    the first one on a tie, which is the same rule.
    """
    import numpy as np
    import pandas as pd

    labels = as_labels(np.asarray(call_model(model.predictor, X, label=model.label)).reshape(-1))
    if len(labels) == len(X) and bool(pd.Series(labels, dtype=object).isin(classes).all()):
        return labels
    return as_labels(np.asarray(classes, dtype=object)[proba.argmax(axis=1)])


def as_labels(values: Any) -> np.ndarray:
    """Labels as a typed array: an object array of ints (or bools, or strings) becomes one of
    ints, so that scikit-learn sees "multiclass" and not "unknown" targets."""
    import numpy as np
    import pandas as pd

    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if array.dtype != object or array.ndim != 1 or len(array) == 0:
        return array
    kinds = {type(v) for v in array.tolist()}
    if len(kinds) != 1 or not issubclass(kinds.pop(), bool | int | float | str | np.generic):
        return array
    typed = np.asarray(array.tolist())
    return typed if typed.dtype != object else array


def _has(predictor: Any, method: str) -> bool:
    try:
        return callable(getattr(predictor, method, None))
    except Exception:  # scikit-learn's available_if raises AttributeError subclasses
        return False


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _binary_classes(classes: list[Any], pos_label: Any) -> list[Any]:
    if len(classes) == 2:
        return list(classes)
    if not classes:
        raise InvalidInput("the target has no values; evaluate on labelled rows.")
    only = classes[0]
    # one class observed: complete the pair so that the other class can be named
    if isinstance(only, bool) or type(only).__name__ == "bool_":
        return [False, True]
    if isinstance(only, numbers.Real) and only in (0, 1):
        return [0, 1]
    if pos_label is None:
        raise InvalidInput(
            f"the target has one class only ({only!r}) and the model does not name its classes; "
            "pass pos_label=<the positive class>."
        )
    return [f"not {pos_label}", pos_label] if pos_label == only else [only, pos_label]


def _pos_label(pos_label: Any, classes: list[Any]) -> Any:
    if pos_label is not None:
        if pos_label not in classes:
            raise InvalidInput(
                f"pos_label {pos_label!r} is not one of the classes {classes}; pass one of them."
            )
        return pos_label
    return classes[1]
