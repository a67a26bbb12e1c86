"""The ``pytorch`` flavor: a module stored as its weights plus the code of its class.

    mloop.log_model(net, "model", code="net.py", init_args={"hidden": 32}, input_example=X)

The weights are a safetensors file (``model.safetensors``), or, for modules whose
tensors share memory (tied weights, which safetensors refuses), a state dict that is
loaded with ``torch.load(weights_only=True)``. The class comes from the stored source,
as for models from code: loading builds ``cls(**init_args)``, loads the weights strictly
and switches to ``eval()``. Inference runs on the CPU in batches under
``torch.inference_mode()``.

A module that names its classes in a class attribute (``classes = [0, 1]``) is a
classifier whose ``forward`` returns probabilities: the positive class's (one output, a
sigmoid) or one per class (a softmax). Its loaded model keeps scikit-learn's contract:
``predict`` gives the most probable class (the first on a tie), ``predict_proba`` one
column per class of ``classes_`` (decision 0153).
"""

from __future__ import annotations

import io
import sys
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors import code, trust
from mloop.registry.flavors.base import ModelFiles, Saved, input_columns
from mloop.registry.signature import ColSpec, Signature, infer_signature

SAFETENSORS_FILE = "model.safetensors"
STATE_DICT_FILE = "model.pt"
BATCH_SIZE = 1024
_LOGICAL = {"float32": "float", "float64": "double", "int32": "integer", "int64": "long"}


def is_torch(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def save(
    module: Any,
    source: Any,
    init_args: dict[str, Any] | None,
    example: Any,
    label: str,
) -> Saved:
    """Weights, code and signature of ``module``, checked by rebuilding it from them."""
    import torch

    if source is None:
        raise InvalidInput(
            f"{label}: a PyTorch module is logged as its weights plus the code of its class; "
            f"pass code='<file>.py' (the file defining {type(module).__name__})."
        )
    files, code_meta = code.source_files(source, label)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    weights_file, weights = _weights(state)
    files[weights_file] = weights
    columns = [str(c) for c in getattr(example, "columns", [])]
    meta: dict[str, Any] = {
        **code_meta,
        "model_class": type(module).__name__,
        "init_args": dict(init_args or {}),
        "weights_file": weights_file,
        "columns": columns,
    }
    rebuilt = _rebuild(files[code.CODE_FILE], meta, weights, label)  # type: ignore[arg-type]
    meta["classes"] = _classes(module, label)
    predictor = torch_model(rebuilt, columns, None, label, meta["classes"])
    signature = None
    if example is not None:
        predictor.spec = spec_of(predictor._tensor(example))
        inputs = predictor._tensor(example)
        was_training = module.training
        module.eval()
        try:
            with torch.inference_mode():
                same = torch.equal(module(inputs), rebuilt(inputs))
        finally:
            module.train(was_training)
        if not same:
            raise InvalidInput(
                f"{label}: rebuilt from its code and weights, {type(module).__name__} answers "
                "differently from the module given; keep all its state in parameters and buffers "
                "and pass the constructor's arguments as init_args."
            )
        if isinstance(predictor, TorchClassifier):
            predictor.predict_proba(example)  # checks that forward gives probabilities
        signature = signature_of(example, predictor)
        meta["tensor_spec"] = predictor.spec
    packages = ("torch", "safetensors", *code_meta["code_imports"].values())
    return Saved(files, meta, packages, predictor, signature)


def _weights(state: dict[str, Any]) -> tuple[str, bytes]:
    try:
        from safetensors.torch import save as save_safetensors

        return SAFETENSORS_FILE, save_safetensors(state)
    except (ImportError, RuntimeError):  # not installed, or tensors that share memory
        import torch

        buffer = io.BytesIO()
        torch.save(state, buffer)
        return STATE_DICT_FILE, buffer.getvalue()


def _read_weights(name: str, data: bytes, label: str) -> dict[str, Any]:
    import torch

    try:
        if name.endswith(".safetensors"):
            from safetensors.torch import load as load_safetensors

            return dict(load_safetensors(data))
        return dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
    except ImportError:
        raise InvalidInput(
            f"{label}: its weights are safetensors and safetensors is not installed; "
            "install it: pip install 'mloop[torch]'."
        ) from None
    except Exception as exc:
        raise InvalidInput(f"{label}: its weights cannot be read ({exc}).") from None


def _rebuild(source: bytes, meta: dict[str, Any], weights: bytes, label: str) -> Any:
    recorded = dict(meta.get("library_versions") or {})
    module = code.import_source(source, label, dict(meta.get("code_imports") or {}), recorded)
    cls = code.model_class(module, str(meta["model_class"]), label, method="forward")
    try:
        net = cls(**dict(meta.get("init_args") or {}))
    except Exception as exc:
        raise InvalidInput(
            f"{label}: {cls.__name__}(**init_args) failed ({type(exc).__name__}: {exc}); pass "
            "the constructor's arguments as init_args= when logging."
        ) from None
    state = _read_weights(str(meta["weights_file"]), weights, label)
    try:
        net.load_state_dict(state, strict=True)
    except Exception as exc:
        raise InvalidInput(
            f"{label}: its weights do not fit {cls.__name__}(**init_args) ({exc}); log the "
            "model again with the code and init_args it was trained with."
        ) from None
    return net.eval()


def load(files: ModelFiles, meta: dict[str, Any], label: str) -> TorchModel:
    """The module rebuilt from its stored code and weights, ready for CPU inference."""
    if not trust.code_allowed():
        raise InvalidInput(
            f"{label} is a PyTorch model, which runs its stored code, and this host refuses "
            f"code models ([models] allow_code = false or {trust.CODE_ENV}=false)."
        )
    try:
        import torch  # noqa: F401
    except ImportError:
        version = dict(meta.get("library_versions") or {}).get("torch")
        pin = f"torch=={version}" if version else "torch"
        raise InvalidInput(
            f"{label} is a PyTorch model and torch is not installed; install it: "
            f"pip install '{pin}'."
        ) from None
    source = files.read(str(meta.get("code_file", code.CODE_FILE)))
    weights = files.read(str(meta["weights_file"]))
    net = _rebuild(source, meta, weights, label)
    columns = list(meta.get("columns") or [])
    return torch_model(net, columns, meta.get("tensor_spec"), label, meta.get("classes"))


def _classes(module: Any, label: str) -> list[Any] | None:
    """The module's ``classes`` attribute, checked to be a list of at least two labels."""
    classes = getattr(module, "classes", None)
    if classes is None:
        return None
    if not isinstance(classes, (list, tuple)) or len(classes) < 2:
        raise InvalidInput(
            f"{label}: {type(module).__name__}.classes = {classes!r}; a classifier names its "
            "classes as a list of at least two labels, e.g. classes = [0, 1]."
        )
    return [c.item() if hasattr(c, "item") else c for c in classes]


def spec_of(tensor: Any) -> dict[str, Any]:
    return {"dtype": str(tensor.dtype).removeprefix("torch."), "shape": [-1, *tensor.shape[1:]]}


def signature_of(example: Any, predictor: TorchModel) -> Signature:
    """Columns for a DataFrame example; a tensor spec (dtype, shape with a batch
    dimension of -1) for an array or tensor."""
    import numpy as np

    outputs = np.asarray(predictor.predict(example))
    out_spec = ColSpec(
        "prediction",
        _LOGICAL.get(str(outputs.dtype), "double"),
        shape=(-1, *outputs.shape[1:]),
    )
    if getattr(example, "columns", None) is not None:
        return Signature(infer_signature(example).inputs, (out_spec,))
    assert predictor.spec is not None
    spec = predictor.spec
    inputs = (
        ColSpec("input", _LOGICAL.get(spec["dtype"], spec["dtype"]), shape=tuple(spec["shape"])),
    )
    return Signature(inputs, (out_spec,))


def torch_model(
    module: Any,
    columns: list[str],
    spec: dict[str, Any] | None,
    label: str,
    classes: list[Any] | None,
) -> TorchModel:
    """A :class:`TorchClassifier` when the module names its classes."""
    if classes is None:
        return TorchModel(module, columns, spec, label)
    return TorchClassifier(module, columns, spec, label, classes)


class TorchModel:
    """A PyTorch module behind ``predict(DataFrame, array or tensor)``: CPU, batched."""

    def __init__(
        self, module: Any, columns: list[str], spec: dict[str, Any] | None, label: str
    ) -> None:
        self.module = module
        self.columns = columns
        self.spec = spec
        self.label = label
        self.batch_size = BATCH_SIZE

    def _tensor(self, data: Any) -> Any:
        import numpy as np
        import pandas as pd
        import torch

        if isinstance(data, pd.DataFrame):
            columns = input_columns(self.label, self.columns, data)
            for name in columns:
                if data[name].dtype.kind not in "biuf":
                    raise InvalidInput(
                        f"{self.label}: field {name!r} has dtype {data[name].dtype}, the model "
                        "takes numbers; encode it as the training data did."
                    )
            dtype = (self.spec or {}).get("dtype", "float32")
            tensor = torch.from_numpy(np.ascontiguousarray(data[columns].to_numpy(dtype=dtype)))
        elif isinstance(data, torch.Tensor):
            tensor = data
        else:
            array = np.asarray(data)
            if array.dtype.kind not in "biuf":
                raise InvalidInput(
                    f"{self.label}: the input has dtype {array.dtype}, the model takes numbers."
                )
            dtype = (self.spec or {}).get("dtype", "float32")
            if not np.can_cast(array.dtype, dtype, "same_kind"):
                raise InvalidInput(
                    f"{self.label}: the input has dtype {array.dtype}, the model takes {dtype}; "
                    f"convert it with .astype('{dtype}')."
                )
            tensor = torch.from_numpy(np.ascontiguousarray(array.astype(dtype)))
        self._check(tensor)
        return tensor

    def _check(self, tensor: Any) -> None:
        if self.spec is None:
            return
        dtype, shape = self.spec["dtype"], self.spec["shape"]
        got = str(tensor.dtype).removeprefix("torch.")
        if got != dtype:
            raise InvalidInput(
                f"{self.label}: the input tensor has dtype {got}, the model takes {dtype}; "
                f"convert it with .to(torch.{dtype})."
            )
        if tensor.dim() != len(shape) or any(
            want != -1 and want != have
            for want, have in zip(shape[1:], tensor.shape[1:], strict=False)
        ):
            raise InvalidInput(
                f"{self.label}: the input has shape {list(tensor.shape)}, the model takes "
                f"{shape} (-1: any batch size); send a batch of that shape."
            )

    def predict(self, data: Any) -> Any:
        return self._forward(data)

    def _forward(self, data: Any) -> Any:
        import torch

        tensor = self._tensor(data)
        parts = []
        with torch.inference_mode():
            for start in range(0, max(len(tensor), 1), self.batch_size):
                parts.append(self.module(tensor[start : start + self.batch_size]))
        out = torch.cat(parts).cpu().numpy()
        return out.reshape(-1) if out.ndim == 2 and out.shape[1] == 1 else out


class TorchClassifier(TorchModel):
    """A module whose ``forward`` returns class probabilities, with scikit-learn's contract."""

    decided_by_proba = True  # serving takes the class from the probabilities: one call

    def __init__(
        self,
        module: Any,
        columns: list[str],
        spec: dict[str, Any] | None,
        label: str,
        classes: list[Any],
    ) -> None:
        import numpy as np

        super().__init__(module, columns, spec, label)
        self.classes_ = np.asarray(classes)

    def predict(self, data: Any) -> Any:
        """The most probable class of each row (the first on a tie)."""
        return self.classes_.take(self.predict_proba(data).argmax(axis=1))

    def predict_proba(self, data: Any) -> Any:
        """One probability column per class of ``classes_``.

        Raises:
            InvalidInput: ``forward`` gave something other than probabilities.
        """
        import numpy as np

        out = np.asarray(self._forward(data), dtype=np.float64)
        count = len(self.classes_)
        if out.ndim == 1 and count == 2:
            out = np.column_stack([1.0 - out, out])
        if out.ndim != 2 or out.shape[1] != count:
            raise InvalidInput(
                f"{self.label}: forward returned shape {list(out.shape)} for {count} classes; "
                "return one probability per row (two classes) or one per class."
            )
        if out.size and (np.nanmin(out) < 0 or np.nanmax(out) > 1):
            raise InvalidInput(
                f"{self.label}: forward returned values outside [0, 1] and the module names "
                "classes, so they must be probabilities; end forward with torch.sigmoid "
                "(one output) or torch.softmax (one per class)."
            )
        return out
