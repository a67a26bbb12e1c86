"""Model flavors: how a model becomes files in the artifact store and comes back.

- ``sklearn``: scikit-learn estimators and pipelines, stored with skops;
- ``python_function``: any other object with ``predict(DataFrame)``, stored with skops;
- ``code``: a Python file defining a class with ``predict``, stored as source plus
  artifacts (:mod:`mloop.registry.flavors.code`);
- ``xgboost`` / ``lightgbm``: native boosters in their own formats (UBJSON, model text);
- ``onnx``: an ONNX graph served with onnxruntime (scikit-learn models converted on request);
- ``pytorch``: a module's weights (safetensors) plus the code of its class, or a
  TorchScript module or exported program (:mod:`mloop.registry.flavors.torch_programs`).

Loading never unpickles: a skops file is rebuilt only from exact type names that were
reviewed or allowed by an admin (:mod:`mloop.registry.flavors.trust`), and every file's
sha256 is checked against the metadata store first (the artifact store does that).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors import (
    boosters,
    code,
    environment,
    objects,
    onnx,
    pytorch,
    torch_programs,
)
from mloop.registry.flavors.base import ModelFiles, Saved

MODEL_FILE = objects.MODEL_FILE

__all__ = ["MODEL_FILE", "ModelFiles", "Saved", "code_modules", "flavor_of", "load", "save"]

code_modules = code.loaded_modules


def flavor_of(model: Any, requested: str | None = None) -> str:
    """The flavor that stores ``model`` (``requested``: the one the user asked for)."""
    if requested is not None:
        natural = flavor_of(model)
        if requested == natural or (requested == "onnx" and natural == "sklearn"):
            return requested
        raise InvalidInput(
            f"flavor={requested!r} does not fit a {type(model).__name__} (its flavor is "
            f"{natural!r}); only scikit-learn models convert, to 'onnx'. Leave flavor unset."
        )
    if code.is_code(model):
        return "code"
    booster = boosters.flavor_of(model)
    if booster is not None:
        return booster
    if onnx.is_onnx(model):
        return "onnx"
    if torch_programs.form_of(model) is not None or pytorch.is_torch(model):
        return "pytorch"
    if objects.is_sklearn(model):
        return "sklearn"
    if callable(getattr(model, "predict", None)):
        return "python_function"
    raise InvalidInput(
        f"cannot log a {type(model).__name__}: a model must be a scikit-learn estimator, an "
        "object with a predict(DataFrame) method, or the path of a .py file defining one."
    )


def save(
    model: Any,
    flavor: str,
    label: str,
    artifacts: dict[str, Any] | None = None,
    example: Any = None,
    source: Any = None,
    init_args: dict[str, Any] | None = None,
) -> Saved:
    """The files and metadata of ``model`` in ``flavor`` (``label`` names it in errors;
    ``example``: input rows, which an ONNX conversion needs; ``source`` and ``init_args``:
    the code file of a PyTorch module's class and its constructor's arguments)."""
    if (source is not None or init_args) and flavor != "pytorch":
        raise InvalidInput(
            f"{label}: code= and init_args= go with a PyTorch module; a {flavor} model does not "
            "take them (a model from code is logged by passing the .py path as the model)."
        )
    if flavor == "code":
        return code.save(model, artifacts, label)
    if artifacts:
        raise InvalidInput(
            f"{label}: artifacts= goes with a model from code (a .py file); a {flavor} model "
            "keeps its state in the object itself."
        )
    if flavor in ("xgboost", "lightgbm"):
        return boosters.save(model, flavor)
    if flavor == "pytorch" and torch_programs.form_of(model) is not None:
        if source is not None or init_args:
            raise InvalidInput(
                f"{label}: a TorchScript module or exported program carries its own code; "
                "leave code= and init_args= unset."
            )
        return torch_programs.save(model, example, label)
    if flavor == "pytorch":
        return pytorch.save(model, source, init_args, example, label)
    if flavor == "onnx":
        if objects.is_sklearn(model):
            return onnx.convert(model, example, label)
        return onnx.save(model, _columns(example), label)
    return objects.save(model, label)


def _columns(example: Any) -> list[str]:
    columns = getattr(example, "columns", None)
    return [str(c) for c in columns] if columns is not None else []


def load(flavor: str, files: ModelFiles, meta: dict[str, Any], label: str) -> Any:
    """The model object of a saved model, after checking the packages it was logged with."""
    environment.check_versions(dict(meta.get("library_versions") or {}), label)
    files = replace(files, label=label)
    if flavor == "code":
        return code.load(files, meta, label)
    if flavor in ("sklearn", "python_function"):
        return objects.load(files, meta, label)
    if flavor in ("xgboost", "lightgbm"):
        return boosters.load(flavor, files, meta, label)
    if flavor == "onnx":
        return onnx.load(files, meta, label)
    if flavor == "pytorch" and meta.get("form"):
        return torch_programs.load(files, meta, label)
    if flavor == "pytorch":
        return pytorch.load(files, meta, label)
    raise InvalidInput(
        f"{label} has flavor {flavor!r}, which this mloop cannot load; upgrade mloop."
    )
