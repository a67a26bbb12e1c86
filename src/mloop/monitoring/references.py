"""Making and reading the reference of a model version.

It is made once (when the version is registered, or later from its training data) and
stored as a mergeable profile, so the training rows are never needed again.

>>> ref = set_reference("delays", 3, train_df, target="delayed")
>>> ref.features, ref.outputs, ref.task, ref.importance["temp"]
>>> get_reference("delays", 3).profile["temp"].quantile(0.5)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mloop import data as mdata
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.evaluation import explain
from mloop.evaluation.scoring import check_task, task_of
from mloop.monitoring import _store
from mloop.monitoring._scoring import metrics_of
from mloop.monitoring.performance import slice_metrics
from mloop.monitoring.reference import LABEL, Reference
from mloop.registry import get_version, load_model

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["get_reference", "model_outputs", "set_reference"]

_SLICE_COLUMNS = 12  # features sliced for the accuracy baseline (most important first)


def model_outputs(model: Any, inputs: pd.DataFrame) -> pd.DataFrame:
    """``prediction``, plus ``proba`` (binary) or ``proba_<class>``: the names serving logs."""
    import numpy as np
    import pandas as pd

    predicted = np.asarray(model.predict(inputs))
    out: dict[str, Any] = {}
    if predicted.ndim == 2 and predicted.shape[1] > 1:
        for i in range(predicted.shape[1]):
            out[f"prediction_{i}"] = predicted[:, i]
    else:
        out["prediction"] = predicted.reshape(-1)
    native = getattr(model, "native", model)
    if hasattr(native, "predict_proba"):
        scores = np.asarray(native.predict_proba(inputs))
        classes = list(getattr(native, "classes_", range(scores.shape[1])))
        if scores.ndim == 2 and scores.shape[1] == 2:
            out["proba"] = scores[:, 1]
        elif scores.ndim == 2:
            for i, label in enumerate(classes):
                out[f"proba_{label}"] = scores[:, i]
    return pd.DataFrame(out, index=inputs.index)


def set_reference(
    model: str,
    version: int | str,
    data: Any,
    *,
    target: str | None = None,
    features: list[str] | None = None,
    predictions: Any = None,
    task: str | None = None,
    importance: Mapping[str, float] | None = None,
) -> Reference:
    """Profile ``data`` (the version's training or validation rows) as its reference.

    Args:
        model: the registered model name.
        version: its version number, an alias (``champion``) or ``latest``.
        data: a DataFrame, dataset version or reference (``"flights@2"``).
        target: the label column, when the rows have one (enables accuracy baselines,
            label drift and importance by permutation).
        features: the model's input columns (default: its signature's, else every
            column but ``target``).
        predictions: the model's outputs on ``data`` (default: computed by loading the
            version): a DataFrame with ``prediction`` (and ``proba``) or a sequence.
        task: ``classification`` or ``regression`` (inferred from the labels otherwise).
        importance: a weight per feature (default: the permutation importance of the
            model on ``data`` when ``target`` is given).

    Raises:
        NotFound: the model version or a named column does not exist.
        InvalidInput: ``data`` is empty or ``predictions`` has the wrong length.

    Example:
        >>> set_reference("delays", "champion", "flights-train@3", target="delayed")
    """
    import pandas as pd

    found = get_version(model, version)
    frame = data if isinstance(data, pd.DataFrame) else mdata.load(data)
    if frame.empty:
        raise InvalidInput(f"the reference data of {model}/{found.version} has no rows.")
    if target is not None and target not in frame.columns:
        raise NotFound(
            f"target column {target!r} is not in the reference data."
            + did_you_mean(target, [str(c) for c in frame.columns])
        )
    names = _feature_names(features, found.signature, frame, target)
    inputs = frame[names]
    loaded = None
    if predictions is None:
        loaded = load_model(f"models:/{model}/{found.version}")
        outputs = model_outputs(loaded, inputs)
    else:
        outputs = _outputs_of(predictions, len(frame), frame.index)
    parts = [inputs, outputs]
    if target is not None:
        parts.append(frame[[target]].rename(columns={target: LABEL}))
    table = pd.concat(parts, axis=1)
    labels = frame[target] if target is not None else None
    if task is not None:
        task = check_task(task)
    else:
        task = task_of(
            labels if labels is not None else outputs["prediction"], outputs.get("proba")
        )
    reference = Reference(
        model_name=model,
        model_version=found.version,
        profile=mdata.profile(table),
        features=names,
        outputs=list(outputs.columns),
        task=task,
        label=LABEL if target is not None else None,
        num_rows=len(frame),
    )
    if labels is not None and "prediction" in outputs:
        reference.classes = (
            sorted(pd.unique(labels.dropna()).tolist()) if task == "classification" else None
        )
        reference.metrics = metrics_of(table, task, reference.classes)
    reference.importance = _importance(
        importance, names, loaded, model, found.version, frame, target
    )
    if labels is not None and "prediction" in outputs:
        ranked = sorted(names, key=lambda n: -(reference.importance or {}).get(n, 0.0))
        reference.slices = slice_metrics(
            table, ranked[:_SLICE_COLUMNS], task, reference.slice_edges
        )
    source = data.lineage_node() if hasattr(data, "lineage_node") else None
    if source is None and isinstance(data, str):
        source = mdata.get_version(data).lineage_node()
    return _store.save_reference(reference, source)


def get_reference(model: str, version: int | str) -> Reference:
    """The stored reference of a model version (by number, alias or ``latest``).

    Raises:
        NotFound: the version has no reference yet (the message says how to make one).
    """
    found = get_version(model, version)
    return _store.load_reference(model, found.version)


def _feature_names(
    features: list[str] | None,
    signature: dict[str, Any] | None,
    frame: pd.DataFrame,
    target: str | None,
) -> list[str]:
    columns = [str(c) for c in frame.columns]
    if features is None and signature and signature.get("inputs"):
        features = [spec["name"] for spec in signature["inputs"]]
    if features is None:
        features = [c for c in columns if c != target]
    if isinstance(features, str) or not features:
        raise InvalidInput(f"features = {features!r} must be a non-empty list of column names.")
    for name in features:
        if name not in columns:
            raise NotFound(
                f"feature {name!r} is not in the reference data." + did_you_mean(name, columns)
            )
    if target is not None and target in features:
        raise InvalidInput(
            f"the target {target!r} cannot also be a feature; remove it from features."
        )
    return list(features)


def _outputs_of(predictions: Any, rows: int, index: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        frame = predictions.copy()
    else:
        frame = pd.DataFrame({"prediction": list(predictions)})
    if len(frame) != rows:
        raise InvalidInput(
            f"predictions has {len(frame)} rows but the reference data has {rows}; give one per row."
        )
    if "prediction" not in frame.columns:
        raise InvalidInput(
            f"predictions has columns {list(frame.columns)}; name the model's output 'prediction' "
            "(and a positive-class probability 'proba')."
        )
    frame.index = index
    return frame


def _importance(
    given: Mapping[str, float] | None,
    names: list[str],
    loaded: Any,
    model: str,
    version: int,
    frame: pd.DataFrame,
    target: str | None,
) -> dict[str, float] | None:
    if given is not None:
        if hasattr(given, "to_dict") and not isinstance(given, Mapping):
            given = given.to_dict()
        unknown = [k for k in given if k not in names]
        if unknown:
            raise InvalidInput(
                f"importance names {unknown[0]!r}, which is not a feature."
                + did_you_mean(str(unknown[0]), names)
            )
        return {name: max(float(given.get(name, 0.0)), 0.0) for name in names}
    if target is None:
        return None
    loaded = loaded or load_model(f"models:/{model}/{version}")
    found = explain(loaded, frame[[*names, target]], target=target, n_repeats=3, max_rows=2000)
    weights = {
        str(r["feature"]): max(float(r["importance"]), 0.0)
        for r in found.importances.to_dict("records")
    }
    return {name: weights.get(name, 0.0) for name in names}
