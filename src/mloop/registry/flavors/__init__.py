"""Model flavors: how a model becomes files in the artifact store and comes back.

- ``sklearn``: scikit-learn estimators and pipelines, stored with skops;
- ``python_function``: any other object with ``predict(DataFrame)``, stored with skops.

Loading never unpickles: a skops file is rebuilt only from exact type names that were
reviewed or allowed by an admin (:mod:`mloop.registry.flavors.trust`), and every file's
sha256 is checked against the metadata store first (the artifact store does that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry.flavors import objects
from mloop.registry.flavors.base import Saved

MODEL_FILE = objects.MODEL_FILE

__all__ = ["MODEL_FILE", "Saved", "flavor_of", "load", "save"]


def flavor_of(model: Any) -> str:
    """The flavor that stores ``model``."""
    if objects.is_sklearn(model):
        return "sklearn"
    if callable(getattr(model, "predict", None)):
        return "python_function"
    raise InvalidInput(
        f"cannot log a {type(model).__name__}: a model must be a scikit-learn estimator, an "
        "object with a predict(DataFrame) method, or the path of a .py file defining one."
    )


def save(model: Any, flavor: str, label: str) -> Saved:
    """The files and metadata of ``model`` in ``flavor`` (``label`` names it in errors)."""
    return objects.save(model, label)


def load(flavor: str, read: Callable[[str], bytes], meta: dict[str, Any], label: str) -> Any:
    """The model object of a saved model; ``read(name)`` gives one of its verified files."""
    if flavor in ("sklearn", "python_function"):
        return objects.load(read, meta, label)
    raise InvalidInput(
        f"{label} has flavor {flavor!r}, which this mloop cannot load; upgrade mloop."
    )
