"""The ``sklearn`` and ``python_function`` flavors: a model object stored with skops.

skops rebuilds an object from the type names its file lists; only exact names that
:mod:`mloop.registry.flavors.trust` allows are rebuilt, so a file edited to name
``builtins.exec`` (or anything not reviewed) is refused before any of it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors import trust
from mloop.registry.flavors.base import Saved

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
    refused = trust.untrusted(sio.get_untrusted_types(data=data))
    if refused:
        raise InvalidInput(trust.refusal(f"{label} ({type(model).__name__})", refused))
    return Saved({MODEL_FILE: data}, {"model_file": MODEL_FILE})


def load(read: Callable[[str], bytes], meta: dict[str, Any], label: str) -> Any:
    """The model object, rebuilt only if every type its file names is trusted."""
    import skops.io as sio

    data = read(str(meta.get("model_file", MODEL_FILE)))
    try:
        found = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise InvalidInput(
            f"{label}: its model file is not a readable skops file ({exc}); log the model again."
        ) from None
    refused = trust.untrusted(found)
    if refused:
        raise InvalidInput(trust.refusal(label, refused))
    return sio.loads(data, trusted=found)
