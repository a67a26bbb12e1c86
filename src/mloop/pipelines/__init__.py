"""Pipelines: modular nodes, a data catalog, sequential/parallel/Ray runners, caching, schedules.

>>> from mloop.pipelines import node, Pipeline, DataCatalog, run
>>> def clean(flights, limit):
...     return flights[flights.dep_delay < limit]
>>> p = Pipeline([node(clean, ["flights", "params:limit"], "clean")])
>>> result = run(p, catalog={"flights": df}, params={"limit": 60}, runner="parallel")
>>> result.outputs["clean"].shape

A run is a tracking run with one child run per node; unchanged nodes (same code, inputs
and parameters) are skipped and their outputs read from the cache. ``request_run(pipeline,
params=, reason=)`` queues a run for ``mloop scheduler`` (what a retraining policy calls).
"""

from __future__ import annotations

import warnings
from typing import Any

from mloop.pipelines.cache import clear as clear_cache
from mloop.pipelines.catalog import DataCatalog, load_catalog
from mloop.pipelines.catalog_entries import (
    CatalogEntry,
    CSVDataset,
    JSONDataset,
    MemoryDataset,
    MloopDataset,
    ModelDataset,
    ParquetDataset,
    TrainingSetDataset,
)
from mloop.pipelines.fingerprint import code_fingerprint
from mloop.pipelines.node import Node, node
from mloop.pipelines.params import load_params
from mloop.pipelines.pipeline import Pipeline, pipeline
from mloop.pipelines.project import find_pipeline, list_pipelines
from mloop.pipelines.run_requests import (
    RunRequest,
    get_run_request,
    list_run_requests,
    request_run,
)
from mloop.pipelines.runners import ParallelRunner, RayRunner, Runner, SequentialRunner
from mloop.pipelines.schedule import Schedule, add_schedule, list_schedules, remove_schedule
from mloop.pipelines.scheduler import Scheduler
from mloop.pipelines.session import NodeFailed, NodeStatus, RunResult, run

__all__ = [
    "CSVDataset",
    "CatalogEntry",
    "DataCatalog",
    "JSONDataset",
    "MemoryDataset",
    "MloopDataset",
    "ModelDataset",
    "Node",
    "NodeFailed",
    "NodeStatus",
    "ParallelRunner",
    "ParquetDataset",
    "Pipeline",
    "RayRunner",
    "RunRequest",
    "RunResult",
    "Runner",
    "Schedule",
    "Scheduler",
    "SequentialRunner",
    "TrainingSetDataset",
    "add_schedule",
    "clear_cache",
    "code_fingerprint",
    "find_pipeline",
    "get_run_request",
    "list_pipelines",
    "list_run_requests",
    "list_schedules",
    "load_catalog",
    "load_params",
    "node",
    "pipeline",
    "remove_schedule",
    "request_run",
    "run",
]

# the run requests' names until this release ("trigger" now means a retraining condition)
_RENAMED = {
    "Trigger": "RunRequest",
    "trigger": "request_run",
    "get_trigger": "get_run_request",
    "list_triggers": "list_run_requests",
}


def __getattr__(name: str) -> Any:
    """The deprecated names of the run requests (removed in the next release)."""
    if name in _RENAMED:
        warnings.warn(
            f"mloop.pipelines.{name} is now mloop.pipelines.{_RENAMED[name]}.",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[_RENAMED[name]]
    raise AttributeError(f"module 'mloop.pipelines' has no attribute {name!r}")
