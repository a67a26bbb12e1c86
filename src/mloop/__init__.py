"""mloop: the whole machine-learning loop in one package.

Data → features → training → registry → serving → monitoring → retraining, with lineage
across every step. The tracking API keeps MLflow's names::

    import mloop

    with mloop.start_run(run_name="baseline"):
        mloop.log_param("model", "rf")
        mloop.log_metric("auc", 0.91)

Names are loaded on first use, so ``import mloop`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it: the one list of the root package's names. __all__
# and __dir__ follow from it; the TYPE_CHECKING imports at the end repeat it because type
# checkers and IDEs cannot read a dict (tests/core/test_exports.py keeps the two equal).
_EXPORTS: dict[str, str] = {
    # tracking (MLflow's fluent names)
    "set_experiment": "mloop.tracking",
    "get_experiment_by_name": "mloop.tracking",
    "start_run": "mloop.tracking",
    "end_run": "mloop.tracking",
    "active_run": "mloop.tracking",
    "last_active_run": "mloop.tracking",
    "get_run": "mloop.tracking",
    "log_param": "mloop.tracking",
    "log_params": "mloop.tracking",
    "log_metric": "mloop.tracking",
    "log_metrics": "mloop.tracking",
    "set_tag": "mloop.tracking",
    "set_tags": "mloop.tracking",
    "log_artifact": "mloop.tracking",
    "log_artifacts": "mloop.tracking",
    "log_dict": "mloop.tracking",
    "log_text": "mloop.tracking",
    "log_figure": "mloop.tracking",
    "log_input": "mloop.tracking",
    "get_metric_history": "mloop.tracking",
    "search_runs": "mloop.tracking",
    "flush": "mloop.tracking",
    "delete_run": "mloop.tracking",
    "delete_experiment": "mloop.tracking",
    "delete_tag": "mloop.tracking",
    "set_experiment_tag": "mloop.tracking",
    "set_experiment_tags": "mloop.tracking",
    "Client": "mloop.registry",
    "register_model": "mloop.registry",
    "autolog": "mloop.registry",
    # registry
    "log_model": "mloop.registry",
    "load_model": "mloop.registry",
    "evaluate": "mloop.evaluation",
}
_SUBMODULES = (
    "core",
    "data",
    "errors",
    "evaluation",
    "features",
    "genai",
    "lineage",
    "loop",
    "monitoring",
    "pipelines",
    "registry",
    "serving",
    "store",
    "streams",
    "tracking",
)

__all__ = [*sorted(_EXPORTS), *_SUBMODULES, "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"mloop.{name}")
    raise AttributeError(f"module 'mloop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # _EXPORTS again, for type checkers and IDEs (a test keeps them equal)
    from mloop.evaluation import evaluate
    from mloop.registry import Client, autolog, load_model, log_model, register_model
    from mloop.tracking import (
        active_run,
        delete_experiment,
        delete_run,
        delete_tag,
        end_run,
        flush,
        get_experiment_by_name,
        get_metric_history,
        get_run,
        last_active_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_experiment,
        set_experiment_tag,
        set_experiment_tags,
        set_tag,
        set_tags,
        start_run,
    )
