"""The ``sklearn`` and ``python_function`` flavors: a model object stored with skops.

skops rebuilds an object from the type names its file lists; only exact names that
:mod:`mloop.registry.flavors.trust` allows are rebuilt, so a file edited to name
``builtins.exec`` (or anything not reviewed) is refused before any of it is built.
"""

from __future__ import annotations

from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors import environment, trust
from mloop.registry.flavors.base import ModelFiles, Saved

MODEL_FILE = "model.skops"


def is_sklearn(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        return False
    return isinstance(model, BaseEstimator)


def save(model: Any, label: str) -> Saved:
    """The skops bytes of ``model``; refused now if loading them would be refused later."""
    import skops.io as sio

    try:
        data = sio.dumps(model)
    except Exception as exc:
        raise InvalidInput(
            f"cannot save {type(model).__name__} with skops ({exc}). Keep the model's state in "
            "plain attributes (numbers, strings, lists, dicts, numpy arrays, estimators), or log "
            "it as code: mloop.log_model('model.py', ...)."
        ) from None
    types = sio.get_untrusted_types(data=data)
    refused = trust.untrusted(types)
    if refused:
        raise InvalidInput(trust.refusal(f"{label} ({type(model).__name__})", refused))
    return Saved({MODEL_FILE: data}, {"model_file": MODEL_FILE}, _packages(model, types), model)


def load(files: ModelFiles, meta: dict[str, Any], label: str) -> Any:
    """The model object, rebuilt only if every type its file names is trusted."""
    import skops.io as sio

    data = files.read(str(meta.get("model_file", MODEL_FILE)))
    try:
        found = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise InvalidInput(
            f"{label}: its model file is not a readable skops file ({exc}); log the model again."
        ) from None
    refused = trust.untrusted(found)
    if refused:
        raise InvalidInput(trust.refusal(label, refused))
    try:
        return sio.loads(data, trusted=found)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        recorded = dict(meta.get("library_versions") or {})
        raise InvalidInput(
            f"{label} needs the package of module {missing!r}, which is not installed; "
            + environment.install_hint(missing, {"sklearn": "scikit-learn"}, recorded)
            + "."
        ) from None


def _packages(model: Any, types: list[str]) -> tuple[str, ...]:
    """The distributions a skops model needs: scikit-learn and skops, plus those defining
    the model's class and the types it holds (lightgbm, xgboost...)."""
    modules = {name.split(".")[0] for name in [type(model).__module__, *types]}
    return ("scikit-learn", "skops", *environment.distributions_of(modules).values())
