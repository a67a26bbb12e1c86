"""Model flavors: how a model object becomes files and comes back.

- ``sklearn``: scikit-learn estimators and pipelines, stored with skops.
- ``python_function``: any object with ``predict(DataFrame)``, stored with skops as well.

skops loads only trusted types: those of scikit-learn, numpy and scipy, plus the exact
types recorded when mloop saved the model (the file's sha256 is checked against the
metadata store before loading, so a swapped file is refused). Raw pickle is never used.
"""

from __future__ import annotations

from typing import Any

from mloop.core.errors import InvalidInput

MODEL_FILE = "model.skops"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.", "pandas.")


def flavor_of(model: Any) -> str:
    """``sklearn`` for scikit-learn estimators, ``python_function`` for anything with predict."""
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        BaseEstimator = ()
    if isinstance(model, BaseEstimator):
        return "sklearn"
    if callable(getattr(model, "predict", None)):
        return "python_function"
    raise InvalidInput(
        f"cannot log a {type(model).__name__}: a model must be a scikit-learn estimator or an "
        "object with a predict(DataFrame) method."
    )


def dump(model: Any) -> tuple[bytes, list[str]]:
    """The model's bytes and the non-default types a loader must trust."""
    import skops.io as sio

    try:
        data = sio.dumps(model)
    except Exception as exc:
        raise InvalidInput(
            f"cannot save {type(model).__name__} with skops ({exc}). Keep the model's state in "
            "plain attributes (numbers, strings, lists, dicts, numpy arrays, estimators)."
        ) from None
    return data, [
        t for t in sio.get_untrusted_types(data=data) if not t.startswith(TRUSTED_PREFIXES)
    ]


def load(data: bytes, recorded_types: list[str]) -> Any:
    """Load model bytes, trusting only default types and those recorded at save time."""
    import skops.io as sio

    found = sio.get_untrusted_types(data=data)
    unexpected = [
        t for t in found if not t.startswith(TRUSTED_PREFIXES) and t not in recorded_types
    ]
    if unexpected:
        raise InvalidInput(
            f"refusing to load a model containing types that were not recorded when it was saved: "
            f"{', '.join(unexpected)}. Log the model again with mloop.log_model."
        )
    return sio.loads(data, trusted=found)
