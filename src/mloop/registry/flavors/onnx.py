"""The ``onnx`` flavor: an ONNX graph, served with onnxruntime.

Any ``onnx.ModelProto`` is logged as it is (``model.onnx``); a scikit-learn model is
converted with skl2onnx when the user asks (``log_model(pipe, flavor="onnx",
input_example=X)``), and the difference between its answers and scikit-learn's on the
example rows is measured, recorded and returned at log time. Loading parses the graph
with onnxruntime: no Python object is rebuilt.
"""

from __future__ import annotations

import sys
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.core.log import get_logger
from mloop.registry.flavors.base import ModelFiles, Saved, input_columns

MODEL_FILE = "model.onnx"
PACKAGES = ("onnx", "onnxruntime")
_log = get_logger("mloop.registry")
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def is_onnx(model: Any) -> bool:
    onnx = sys.modules.get("onnx")
    return onnx is not None and isinstance(model, onnx.ModelProto)


def save(model: Any, columns: list[str], label: str) -> Saved:
    """An ONNX graph as it is, checked by opening it with onnxruntime."""
    data = model.SerializeToString()
    predictor = onnx_model(data, columns, label)
    return Saved(
        {MODEL_FILE: data}, {"model_file": MODEL_FILE, "columns": columns}, PACKAGES, predictor
    )


def convert(model: Any, example: Any, label: str) -> Saved:
    """A scikit-learn model as ONNX, with the difference to scikit-learn on ``example``."""
    import numpy as np
    import pandas as pd

    if example is None:
        raise InvalidInput(
            f"{label}: converting a scikit-learn model to ONNX needs input_example= (rows "
            "of the training data) to fix the input types and measure the difference."
        )
    frame = example if isinstance(example, pd.DataFrame) else pd.DataFrame(example)
    frame.columns = [str(c) for c in frame.columns]
    try:
        from skl2onnx import to_onnx
    except ImportError:
        raise InvalidInput(
            f"{label}: converting to ONNX needs skl2onnx; install it: pip install 'mloop[onnx]'."
        ) from None
    typed = frame.copy()
    for name in typed.columns:
        kind = typed[name].dtype.kind
        typed[name] = typed[name].astype(np.float32) if kind in "biuf" else typed[name].astype(str)
    options = {id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None
    try:
        graph = to_onnx(model, typed.head(1), options=options)
    except Exception:  # a bare estimator takes one matrix, not a column per feature
        try:
            matrix = typed.to_numpy(dtype=np.float32)
            graph = to_onnx(model, matrix[:1], options=options)
        except Exception as exc:
            raise InvalidInput(
                f"{label}: skl2onnx cannot convert {type(model).__name__} ({exc}); log it "
                "without flavor='onnx'."
            ) from None
    data = graph.SerializeToString()
    predictor = onnx_model(data, list(frame.columns), label)
    conversion = _difference(model, predictor, frame)
    _log.log(
        30 if conversion["label_agreement"] < 1 or conversion["max_abs_diff"] > 1e-4 else 20,
        "%s converted to ONNX: max |difference| to scikit-learn %.3g over %d rows, %s; "
        "labels agree on %.4f of them",
        label,
        conversion["max_abs_diff"],
        conversion["rows"],
        conversion["compared"],
        conversion["label_agreement"],
    )
    meta = {"model_file": MODEL_FILE, "columns": list(frame.columns), "conversion": conversion}
    return Saved({MODEL_FILE: data}, meta, (*PACKAGES, "skl2onnx"), predictor)


def _difference(model: Any, onnx_model: OnnxModel, frame: Any) -> dict[str, Any]:
    """How far the ONNX answers are from scikit-learn's on ``frame``."""
    import numpy as np

    expected = np.asarray(model.predict(frame))
    got = np.asarray(onnx_model.predict(frame)).reshape(expected.shape)
    result: dict[str, Any] = {"rows": len(frame)}
    if hasattr(model, "predict_proba") and isinstance(onnx_model, OnnxClassifier):
        diff = np.abs(np.asarray(model.predict_proba(frame)) - onnx_model.predict_proba(frame))
        result["compared"] = "predict_proba"
        result["label_agreement"] = float(np.mean(expected == got))
    else:
        diff = np.abs(expected.astype(float) - got.astype(float))
        result["compared"] = "predict"
        result["label_agreement"] = 1.0
    result["max_abs_diff"] = float(diff.max()) if diff.size else 0.0
    result["mean_abs_diff"] = float(diff.mean()) if diff.size else 0.0
    return result


def load(files: ModelFiles, meta: dict[str, Any], label: str) -> OnnxModel:
    """The graph in an onnxruntime session."""
    data = files.read(str(meta.get("model_file", MODEL_FILE)))
    version = dict(meta.get("library_versions") or {}).get("onnxruntime")
    pin = f"onnxruntime=={version}" if version else "mloop[onnx]"
    return onnx_model(data, list(meta.get("columns") or []), label, pin)


def onnx_model(graph: bytes, columns: list[str], label: str, pin: str = "") -> OnnxModel:
    """The graph in a session: an :class:`OnnxClassifier` when it has a ``probabilities``
    output (``pin``: what to install when onnxruntime is missing)."""
    session = _session(graph, label, pin or "mloop[onnx]")
    outputs = [o.name for o in session.get_outputs()]
    kind = OnnxClassifier if "probabilities" in outputs else OnnxModel
    return kind(session, graph, columns, label)


def _session(data: bytes, label: str, pin: str) -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise InvalidInput(
            f"{label} is an ONNX model and onnxruntime is not installed; install it: "
            f"pip install '{pin}'."
        ) from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one request batch per core; the server scales out
    try:
        return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InvalidInput(f"{label}: its ONNX graph cannot be loaded ({exc}).") from None


class OnnxModel:
    """An onnxruntime session behind ``predict(DataFrame or array)``, input checked first."""

    def __init__(self, session: Any, graph: bytes, columns: list[str], label: str) -> None:
        self.session = session
        self.graph = graph
        self.columns = columns
        self.label = label
        self.inputs = session.get_inputs()
        self.outputs = [o.name for o in session.get_outputs()]

    def __reduce__(self) -> tuple[Any, ...]:
        # a session cannot be pickled: ship the graph (Ray batch scoring) and reopen it
        return (onnx_model, (self.graph, self.columns, self.label))

    def _cast(self, values: Any, spec: Any, field: str) -> Any:
        import numpy as np

        dtype = _DTYPES.get(spec.type)
        if dtype is None:
            raise InvalidInput(
                f"{self.label}: its input {spec.name!r} has type {spec.type}, "
                "which mloop cannot feed; call the session directly."
            )
        array = np.asarray(values)
        if dtype == "object":
            return array.astype(str).astype(object)
        if array.dtype.kind not in "biuf":
            raise InvalidInput(
                f"{self.label}: {field} has dtype {array.dtype}, the model takes {spec.type}; "
                "send numbers."
            )
        return array.astype(dtype)

    def _check_shape(self, array: Any, spec: Any, field: str) -> None:
        declared = list(spec.shape)
        if len(declared) != array.ndim or any(
            isinstance(d, int) and d != n
            for d, n in zip(declared[1:], array.shape[1:], strict=False)
        ):
            shown = ["batch" if not isinstance(d, int) else d for d in declared]
            raise InvalidInput(
                f"{self.label}: {field} has shape {list(array.shape)}, the model takes "
                f"{shown}; send a batch of rows of that shape."
            )

    def _feeds(self, data: Any) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        if isinstance(data, np.ndarray):
            if len(self.inputs) != 1:
                raise InvalidInput(
                    f"{self.label} takes inputs {', '.join(i.name for i in self.inputs)}; send a "
                    "DataFrame with those columns."
                )
            spec = self.inputs[0]
            array = self._cast(data, spec, "the input")
            self._check_shape(array, spec, "the input")
            return {spec.name: array}
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        if len(self.inputs) == 1 and self.inputs[0].name not in frame.columns:
            spec = self.inputs[0]
            columns = input_columns(self.label, self.columns, frame)
            for name in columns:
                self._cast(frame[name].to_numpy(), spec, f"field {name!r}")
            array = self._cast(frame[columns].to_numpy(), spec, "the input")
            self._check_shape(array, spec, "the input")
            return {spec.name: array}
        feeds = {}
        for spec in self.inputs:
            if spec.name not in frame.columns:
                raise InvalidInput(
                    f"{self.label} needs field {spec.name!r}, which the input lacks; send the "
                    f"columns {', '.join(i.name for i in self.inputs)}."
                )
            feeds[spec.name] = self._cast(
                frame[spec.name].to_numpy().reshape(-1, 1), spec, f"field {spec.name!r}"
            )
        return feeds

    def run(self, data: Any) -> dict[str, Any]:
        """Every output of the graph for ``data``, by name."""
        return dict(zip(self.outputs, self.session.run(None, self._feeds(data)), strict=True))

    def predict(self, data: Any) -> Any:
        out = self.session.run([self.outputs[0]], self._feeds(data))[0]
        return out.reshape(-1) if out.ndim == 2 and out.shape[1] == 1 else out


class OnnxClassifier(OnnxModel):
    """An ONNX classifier (skl2onnx's ``label`` and ``probabilities`` outputs)."""

    def predict_proba(self, data: Any) -> Any:
        return self.session.run(["probabilities"], self._feeds(data))[0]
