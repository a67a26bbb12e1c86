"""Experiment tracking with MLflow's names: runs, params, metrics, tags, artifacts, inputs.

Logging is write-behind (values are batched by a background thread), params are
immutable, a run killed mid-way is marked FAILED by its missing heartbeat, and every
run records its code version and environment without being asked.
"""

from mloop.tracking.artifacts import log_artifact, log_artifacts, log_dict, log_figure, log_text
from mloop.tracking.client import TrackingClient
from mloop.tracking.entities import Experiment, Metric, Run, RunData, RunInfo, RunList
from mloop.tracking.fluent import (
    ActiveRun,
    _reset_for_tests,
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
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_tag,
    set_tags,
    start_run,
)
from mloop.tracking.inputs import as_lineage_node

Client = TrackingClient
"""MLflow's name for :class:`TrackingClient`."""

__all__ = [
    "ActiveRun",
    "Client",
    "Experiment",
    "Metric",
    "Run",
    "RunData",
    "RunInfo",
    "RunList",
    "TrackingClient",
    "_reset_for_tests",
    "active_run",
    "as_lineage_node",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "get_experiment_by_name",
    "get_metric_history",
    "get_run",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "start_run",
]
