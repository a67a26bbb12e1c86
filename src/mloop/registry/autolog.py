"""``mloop.autolog()``: scikit-learn ``fit`` calls log their params, training metrics and model.

Every estimator class's ``fit`` is wrapped (classes imported later too, through
``BaseEstimator.__init_subclass__``). Only the outermost ``fit`` logs, so a Pipeline or a
search does not log its inner estimators. Without an active run, ``fit`` starts one and
ends it afterwards, as MLflow does.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from mloop.core.log import get_logger

log = get_logger("mloop.registry")
_state: dict[str, Any] = {"enabled": False, "log_models": True, "patched": set()}
_depth = threading.local()


def autolog(log_models: bool = True, disable: bool = False) -> None:
    """Turn on (or off with ``disable=True``) automatic logging of scikit-learn training.

    Each outermost ``fit`` logs the estimator's params and training metrics into the
    active run (one is started and ended around ``fit`` when none is active).

    Args:
        log_models: also log the fitted model (as :func:`mloop.log_model` would).
        disable: turn automatic logging off again.
    """
    from sklearn.base import BaseEstimator

    _state["enabled"] = not disable
    _state["log_models"] = log_models
    if disable:
        return
    for cls in _all_subclasses(BaseEstimator):
        _patch(cls)
    if not getattr(BaseEstimator, "_mloop_hooked", False):
        original = BaseEstimator.__dict__.get("__init_subclass__")

        def init_subclass(cls: type, **kwargs: Any) -> None:
            if original is not None:
                original.__func__(cls, **kwargs)
            else:
                super(BaseEstimator, cls).__init_subclass__(**kwargs)
            _patch(cls)

        BaseEstimator.__init_subclass__ = classmethod(init_subclass)
        BaseEstimator._mloop_hooked = True


def _all_subclasses(cls: type) -> list[type]:
    found: list[type] = []
    todo: list[type] = [cls]
    while todo:
        subclasses: list[type] = todo.pop().__subclasses__()
        found.extend(subclasses)
        todo.extend(subclasses)
    return found


def _patch(cls: type) -> None:
    fit = cls.__dict__.get("fit")
    if fit is None or cls in _state["patched"] or getattr(fit, "_mloop_wrapped", False):
        return

    @functools.wraps(fit)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_depth, "value", 0)
        _depth.value = depth + 1  # inner fits (and those made while logging) do not log
        try:
            result = fit(self, *args, **kwargs)
            if depth == 0 and _state["enabled"]:
                X = args[0] if args else kwargs.get("X")
                y = args[1] if len(args) > 1 else kwargs.get("y")
                try:
                    _log_fit(self, X, y)
                except Exception as exc:  # never break the user's training because logging failed
                    log.warning("autolog could not log %s: %s", type(self).__name__, exc)
        finally:
            _depth.value = depth
        return result

    wrapped._mloop_wrapped = True  # type: ignore[attr-defined]
    cls.fit = wrapped  # type: ignore[attr-defined]
    _state["patched"].add(cls)


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Metrics of a fitted estimator on its training data, by task."""
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    if y is None:
        return {}
    found: dict[str, float] = {}
    if is_classifier(estimator):
        predicted = estimator.predict(X)
        found["training_accuracy_score"] = float(metrics.accuracy_score(y, predicted))
        found["training_precision_score"] = float(
            metrics.precision_score(y, predicted, average="weighted", zero_division=0)
        )
        found["training_recall_score"] = float(
            metrics.recall_score(y, predicted, average="weighted", zero_division=0)
        )
        found["training_f1_score"] = float(
            metrics.f1_score(y, predicted, average="weighted", zero_division=0)
        )
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            found["training_log_loss"] = float(
                metrics.log_loss(y, proba, labels=estimator.classes_)
            )
            if proba.shape[1] == 2:
                found["training_roc_auc"] = float(metrics.roc_auc_score(y, proba[:, 1]))
    elif is_regressor(estimator):
        predicted = estimator.predict(X)
        mse = float(metrics.mean_squared_error(y, predicted))
        found["training_mean_squared_error"] = mse
        found["training_root_mean_squared_error"] = mse**0.5
        found["training_mean_absolute_error"] = float(metrics.mean_absolute_error(y, predicted))
        found["training_r2_score"] = float(metrics.r2_score(y, predicted))
    return found


def _log_fit(estimator: Any, X: Any, y: Any) -> None:
    from mloop.registry.models import log_model
    from mloop.tracking import active_run, end_run, log_metric, log_params, set_tags, start_run

    started = active_run() is None
    if started:
        start_run()
    try:
        log_params({k: _param_text(v) for k, v in estimator.get_params(deep=False).items()})
        set_tags(
            {
                "estimator_name": type(estimator).__name__,
                "estimator_class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            }
        )
        for key, value in training_metrics(estimator, X, y).items():
            log_metric(key, value)
        if _state["log_models"]:
            example = X[:5] if hasattr(X, "__getitem__") else None
            log_model(estimator, "model", input_example=example)
    finally:
        if started:
            end_run()


def _param_text(value: Any) -> str:
    text = (
        repr(value) if not isinstance(value, str | int | float | bool | type(None)) else str(value)
    )
    return text[:6000]
