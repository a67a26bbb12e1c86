"""Pipelines: modular nodes, a data catalog, sequential/parallel/Ray runners, caching, schedules.

>>> from mloop.pipelines import node, Pipeline, DataCatalog, run
>>> def clean(flights, limit):
...     return flights[flights.dep_delay < limit]
>>> p = Pipeline([node(clean, ["flights", "params:limit"], "clean")])
>>> result = run(p, catalog={"flights": df}, params={"limit": 60}, runner="parallel")
>>> result.outputs["clean"].shape

A run is a tracking run with one child run per node; unchanged nodes (same code, inputs
and parameters) are skipped and their outputs read from the cache. ``trigger(pipeline,
params=, reason=)`` queues a run for ``mloop scheduler`` (what a retraining policy calls).
"""

from __future__ import annotations

from mloop.pipelines.cache import clear as clear_cache
from mloop.pipelines.catalog import DataCatalog, load_catalog
from mloop.pipelines.datasets import (
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
from mloop.pipelines.runners import ParallelRunner, RayRunner, Runner, SequentialRunner
from mloop.pipelines.schedule import Schedule, add_schedule, list_schedules, remove_schedule
from mloop.pipelines.scheduler import Scheduler
from mloop.pipelines.session import NodeFailed, NodeStatus, RunResult, run
from mloop.pipelines.triggers import Trigger, get_trigger, list_triggers, trigger

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
    "RunResult",
    "Runner",
    "Schedule",
    "Scheduler",
    "SequentialRunner",
    "TrainingSetDataset",
    "Trigger",
    "add_schedule",
    "clear_cache",
    "code_fingerprint",
    "find_pipeline",
    "get_trigger",
    "list_pipelines",
    "list_schedules",
    "list_triggers",
    "load_catalog",
    "load_params",
    "node",
    "pipeline",
    "remove_schedule",
    "run",
    "trigger",
]
