"""A served model: loaded from the registry, answering in batches, swapped when its alias moves.

``models:/delays@champion`` is polled every ``poll_seconds``; when the alias points to a
new version, that version is loaded and warmed up in the background and then replaces
the old one in a single assignment. Batches already running keep the model they
started with, so a swap under load fails no request.

>>> runtime = ModelRuntime("models:/delays@champion")
>>> runtime.load()
>>> outputs, version = runtime.predict(frame)       # outputs: prediction (+ proba)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.core.log import get_logger

if TYPE_CHECKING:
    import pandas as pd

    from mloop.registry import LoadedModel, Signature
    from mloop.serving.compiled import CompiledTransform

_log = get_logger("mloop.serving")


@dataclass(frozen=True)
class _Current:
    model: LoadedModel
    version: str
    transform: CompiledTransform | None = None  # the pipeline's input transform, compiled


class ModelRuntime:
    """One model URI kept loaded (and current, for an alias) for serving."""

    def __init__(self, uri: str, proba: bool = True, poll_seconds: float = 1.5) -> None:
        from mloop.registry import parse_uri

        kind, first, second = parse_uri(uri)
        self.uri = uri
        self.proba = proba
        self.poll_seconds = float(poll_seconds)
        self.name = str(first) if kind == "models" else f"run-{first}"
        self.alias = second if kind == "models" and second and not str(second).isdigit() else None
        self._current: _Current | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._swap_lock = threading.Lock()
        self.swaps = 0
        self.listeners: list[Any] = []  # called with (name, old_version, new_version)

    # -- loading -------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._current is not None

    @property
    def version(self) -> str:
        return self._require().version

    @property
    def signature(self) -> Signature | None:
        return self._require().model.signature

    @property
    def model(self) -> LoadedModel:
        return self._require().model

    def _require(self) -> _Current:
        current = self._current
        if current is None:
            raise InvalidInput(f"model {self.uri} is not loaded yet; call load() first.")
        return current

    def load(self) -> None:
        """Load the model the URI names now (blocking)."""
        from mloop.registry import load_model

        model = load_model(self.uri)
        version = str(model.version.version) if model.version is not None else "0"
        self._current = self._prepared(model, version)

    def _prepared(self, model: LoadedModel, version: str) -> _Current:
        """``model`` ready to serve: its pipeline's input transform compiled, and run once
        on its input example, as a DataFrame and as the columns a request becomes, so the
        first request is not slow (which also checks the compiled transform for those
        dtypes before traffic)."""
        import pandas as pd

        from mloop.serving.validation import to_arrays

        example = model.metadata.get("input_example")
        transform = None
        if example:
            try:
                frame = pd.DataFrame(example["data"], columns=example["columns"])
                transform = compiled_transform(model, frame)
                model_arrays(model, frame, self.proba, self.uri, transform)
                columns = {str(c): frame[c].tolist() for c in frame.columns}
                arrays = to_arrays(columns, model.signature)
                model_arrays(model, arrays, self.proba, self.uri, transform)
            except Exception as exc:  # a model that cannot predict its own example still loads
                _log.warning("warm-up of %s failed: %s", self.uri, exc)
        return _Current(model, version, transform)

    def check_for_update(self) -> bool:
        """Swap in the version the alias names now, if it moved; True when it swapped."""
        if self.alias is None:
            return False
        from mloop.registry import load_model, version_number

        with self._swap_lock:
            current = self._current
            target = str(version_number(self.name, self.alias))
            if current is not None and target == current.version:
                return False
            model = load_model(f"models:/{self.name}/{target}")
            self._current = self._prepared(model, target)  # the atomic switch
            self.swaps += 1
        old = current.version if current is not None else None
        _log.warning(
            "model %s@%s: switched from version %s to %s", self.name, self.alias, old, target
        )
        for listener in list(self.listeners):
            listener(self.name, old, target)
        return True

    def start_watching(self) -> None:
        """Poll the alias in a background thread (nothing to do for a pinned version)."""
        if self.alias is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._watch, name=f"mloop-watch-{self.name}", daemon=True
        )
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check_for_update()
            except Exception as exc:  # keep serving the current version; try again later
                _log.error("checking %s for a new version failed: %s", self.uri, exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    # -- predicting ----------------------------------------------------------------------

    def predict(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
        """Outputs of the current model (``prediction``, ``proba``...) and its version."""
        current = self._require()  # one snapshot for the whole batch
        import pandas as pd

        arrays = model_arrays(current.model, frame, self.proba, self.uri, current.transform)
        return pd.DataFrame(arrays, index=frame.index), current.version

    def predict_arrays(self, frame: pd.DataFrame | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """:meth:`predict` as numpy arrays by output name; ``frame`` may be columns as arrays
        (a DataFrame is then built only if the model's compiled transform cannot take them)."""
        current = self._require()
        arrays = model_arrays(current.model, frame, self.proba, self.uri, current.transform)
        return arrays, current.version

    def __repr__(self) -> str:
        version = self._current.version if self._current else "not loaded"
        return f"ModelRuntime({self.uri!r}, version={version})"


def model_outputs(model: LoadedModel, frame: pd.DataFrame, proba: bool, uri: str) -> pd.DataFrame:
    """``prediction`` (``prediction_<i>`` for several outputs), plus ``proba`` (binary) or
    ``proba_<class>`` (several classes) when ``proba`` and the model has ``predict_proba``."""
    import pandas as pd

    return pd.DataFrame(model_arrays(model, frame, proba, uri), index=frame.index)


def model_arrays(
    model: LoadedModel,
    frame: pd.DataFrame | Mapping[str, Any],
    proba: bool,
    uri: str,
    transform: CompiledTransform | None = None,
) -> dict[str, Any]:
    """The columns of :func:`model_outputs` as numpy arrays (``transform``: the compiled
    input transform of a scikit-learn pipeline, see :mod:`mloop.serving.compiled`, which
    can take the columns as arrays; other models get them as a DataFrame)."""
    import numpy as np

    inputs = _model_inputs(model, frame, uri)
    native = model.native
    scores = compiled = matrix = None
    if transform is not None:
        compiled = transform.answer(inputs)  # no matrix at all, where that is exact
        if compiled is None:
            matrix = transform(inputs)
            compiled = transform.final_output(matrix) if matrix is not None else None
            if compiled is None and transform.bare:  # a bare model takes its columns as are
                matrix = None
    if matrix is None and compiled is None:
        inputs = _frame_of(inputs)
    if matrix is not None or compiled is not None:  # the final step on its matrix
        assert transform is not None
        final = native if transform.bare else native[-1]
        if proba and hasattr(final, "predict_proba"):
            # what its predict takes, for rows where two classes tie (built only then)
            ties = inputs if transform.bare else matrix
            if ties is None:
                ties = functools.partial(transform, inputs)
            prediction, scores = _answers(final, ties, compiled)
        else:
            prediction = np.asarray(final.predict(matrix) if compiled is None else compiled)
    elif proba and hasattr(native, "predict_proba"):
        prediction, scores = _predict_with_proba(model, inputs)
    else:
        prediction = np.asarray(model.predict(inputs))
    out: dict[str, Any] = {}
    if prediction.ndim == 2 and prediction.shape[1] > 1:
        for i in range(prediction.shape[1]):
            out[f"prediction_{i}"] = prediction[:, i]
    else:
        out["prediction"] = prediction.reshape(-1)
    if scores is not None and scores.ndim == 2:
        classes = list(getattr(native, "classes_", range(scores.shape[1])))
        if scores.shape[1] == 2:
            out["proba"] = scores[:, 1]
        else:
            for i, label in enumerate(classes):
                out[f"proba_{label}"] = scores[:, i]
    return out


def compiled_transform(model: LoadedModel, example: pd.DataFrame) -> CompiledTransform | None:
    """The compiled input transform of a scikit-learn pipeline, or the compiled form of a
    bare linear model (None for other models)."""
    from mloop.serving.compiled import CompiledTransform

    native = model.native
    steps = getattr(native, "steps", None)
    inputs = _model_inputs(model, example, model.uri)
    if isinstance(steps, list) and len(steps) > 1:
        compiled = CompiledTransform.of(native[:-1], inputs, final=native[-1])
    else:
        compiled = CompiledTransform.of(None, inputs, final=native)
    if compiled is not None:
        _log.info("serving %s compiled", type(steps[0][1] if steps else native).__name__)
    return compiled


def _model_inputs(model: LoadedModel, frame: Any, uri: str) -> Any:
    """The signature's columns of ``frame`` (a DataFrame or a mapping of columns), in
    order (all of them without a signature)."""
    signature = model.signature
    if signature is None or not signature.inputs:
        return frame
    names = signature.input_names
    columns = list(frame) if isinstance(frame, Mapping) else list(frame.columns)
    if columns == names:
        return frame
    missing = [n for n in names if n not in columns]
    if missing:
        raise InvalidInput(
            f"model {uri} needs field {missing[0]!r}, which the request and the enrichment "
            "steps did not provide; send it or add a feature step that does."
        )
    if isinstance(frame, Mapping):
        return {name: frame[name] for name in names}
    return frame[names]


def _predict_with_proba(model: LoadedModel, inputs: pd.DataFrame) -> tuple[Any, Any]:
    """``predict`` and ``predict_proba``; a scikit-learn Pipeline transforms its input once.

    The transform steps (often most of the cost of a small model) run once and the final
    estimator answers both calls on their output, which is what ``Pipeline.predict`` and
    ``Pipeline.predict_proba`` each do internally. For classifiers whose prediction is
    decided by their probabilities, only ``predict_proba`` runs (see :func:`_answers`).
    """
    native = model.native
    steps = getattr(native, "steps", None)
    if isinstance(steps, list) and len(steps) > 1 and hasattr(native, "__getitem__"):
        final = native[-1]
        if hasattr(final, "predict_proba"):
            return _answers(final, native[:-1].transform(inputs))
    return _answers(native, inputs)


# scikit-learn classifiers whose ``predict`` is the class of highest probability (or the
# arg-max of a score that ``predict_proba`` maps to probabilities in the same order), by
# the module that defines them: subclasses from elsewhere may predict otherwise.
_DECIDED_BY_PROBA = {
    "sklearn.linear_model._logistic": {"LogisticRegression", "LogisticRegressionCV"},
    "sklearn.ensemble._forest": {"RandomForestClassifier", "ExtraTreesClassifier"},
    "sklearn.ensemble._gb": {"GradientBoostingClassifier"},
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting": {
        "HistGradientBoostingClassifier"
    },
    "sklearn.tree._classes": {"DecisionTreeClassifier", "ExtraTreeClassifier"},
    "sklearn.naive_bayes": {
        "GaussianNB",
        "MultinomialNB",
        "BernoulliNB",
        "ComplementNB",
        "CategoricalNB",
    },
}


def _frame_of(inputs: Any) -> Any:
    """Columns as arrays become the DataFrame the model takes; anything else stays."""
    if isinstance(inputs, Mapping):
        import pandas as pd

        return pd.DataFrame(inputs)
    return inputs


def decided_by_proba(estimator: Any) -> bool:
    """Whether ``estimator.predict`` is the class of highest ``predict_proba`` (ties aside):
    the scikit-learn classifiers listed above, and models that declare it with a class
    attribute ``decided_by_proba = True`` (mloop's booster and PyTorch classifiers)."""
    kind = type(estimator)
    if getattr(kind, "decided_by_proba", False) is True:
        return True
    return kind.__name__ in _DECIDED_BY_PROBA.get(kind.__module__, ())


def _answers(estimator: Any, inputs: Any, scores: Any = None) -> tuple[Any, Any]:
    """``(predict(inputs), predict_proba(inputs))`` with one model call where that is exact
    (``scores``: ``predict_proba(inputs)`` when already known, e.g. compiled; ``inputs``
    may then be a function that makes them, called only if a tie needs them).

    For the classifiers of :data:`_DECIDED_BY_PROBA` (single output) the prediction is the
    class of highest probability; rows where two classes tie (or the probabilities are not
    finite) are predicted again with ``predict``, whose tie-break is the model's own.
    Validating a DataFrame costs scikit-learn far more than the arithmetic of a linear
    model, so this halves the model's time on small batches.
    """
    import numpy as np

    scores = np.asarray(estimator.predict_proba(inputs) if scores is None else scores)
    classes = getattr(estimator, "classes_", None)
    if not (
        decided_by_proba(estimator)
        and isinstance(classes, np.ndarray)
        and classes.ndim == 1
        and scores.ndim == 2
        and scores.shape[1] == len(classes)
    ):
        return np.asarray(estimator.predict(inputs)), scores
    if scores.shape[1] == 2:  # the same arg-max in fewer numpy calls (most models)
        first, second = scores[:, 0], scores[:, 1]
        best = (second > first).astype(np.intp)
        unsure = (first == second) | ~np.isfinite(first + second)
    else:
        best = scores.argmax(axis=1)
        top = scores[np.arange(len(scores)), best]
        unsure = ((scores == top[:, None]).sum(axis=1) != 1) | ~np.isfinite(top)
    prediction = classes.take(best)
    if unsure.any():
        rows = np.flatnonzero(unsure)
        inputs = _frame_of(inputs() if callable(inputs) else inputs)
        part = inputs.iloc[rows] if hasattr(inputs, "iloc") else inputs[rows]
        prediction[rows] = np.asarray(estimator.predict(part))
    return prediction, scores
