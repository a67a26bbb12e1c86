"""mloop's entities as MLflow's JSON: experiments, runs, metrics, registered models, versions.

Artifact locations are ``mlflow-artifacts:/<key>`` URIs, so the MLflow client moves files
through this server's ``/api/2.0/mlflow-artifacts`` routes; system tags are shown under
MLflow's names (``mlflow.runName``), as MLflow's client reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from mloop.registry.entities import ModelVersion, RegisteredModel
from mloop.server.mlflow_api.protocol import number
from mloop.store.db import MetadataStore
from mloop.store.schema.tracking import LatestMetric
from mloop.tracking.entities import Experiment, Metric, Run
from mloop.tracking.runs import artifact_prefix, metric_value
from mloop.tracking.system_tags import MLFLOW_NAMES

SCHEME = "mlflow-artifacts:/"
MODEL_ID_TAG = "mloop.mlflow.modelId"  # a version registered from an MLflow logged model
_MLFLOW_NAME = {mloop: mlflow for mlflow, mloop in MLFLOW_NAMES.items()}


def artifact_uri(key: str) -> str:
    """The ``mlflow-artifacts:`` URI of an artifact-store key."""
    return SCHEME + key


def key_of(uri: str) -> str | None:
    """The artifact-store key of an ``mlflow-artifacts:`` URI (None for other schemes)."""
    if not uri.startswith(SCHEME):
        return None
    rest = uri[len(SCHEME) :]
    if rest.startswith("//"):  # mlflow-artifacts://host:port/key
        rest = rest[2:].partition("/")[2]
    return rest.strip("/")


def pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def experiment(found: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": found.experiment_id,
        "name": found.name,
        "artifact_location": artifact_uri(f"experiments/{found.experiment_id}"),
        "lifecycle_stage": found.lifecycle_stage,
        "creation_time": found.creation_time,
        "last_update_time": found.last_update_time,
        "tags": pairs(found.tags),
    }


def metric(found: Metric) -> dict[str, Any]:
    return {
        "key": found.key,
        "value": number(found.value),
        "timestamp": found.timestamp,
        "step": found.step,
    }


def latest_metrics(store: MetadataStore, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each run's latest value of each metric, with its step and timestamp."""
    found: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return found
    query = select(
        LatestMetric.run_id,
        LatestMetric.key,
        LatestMetric.value,
        LatestMetric.is_nan,
        LatestMetric.timestamp,
        LatestMetric.step,
    ).where(LatestMetric.run_id.in_(run_ids))
    with store.read() as conn:
        for run_id, key, value, is_nan, timestamp, step in conn.execute(query):
            found[run_id].append(
                {
                    "key": key,
                    "value": number(metric_value(value, is_nan)),
                    "timestamp": timestamp,
                    "step": step,
                }
            )
    return found


def tags(stored: dict[str, str]) -> list[dict[str, str]]:
    """A run's tags under MLflow's names."""
    return pairs({_MLFLOW_NAME.get(k, k): v for k, v in stored.items()})


def run(found: Run, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    info = found.info
    stored_tags = {**found.data.tags, "mloop.runName": info.run_name}
    if info.parent_run_id:
        stored_tags["mloop.parentRunId"] = info.parent_run_id
    return {
        "info": run_info(found),
        "data": {
            "metrics": metrics,
            "params": pairs(found.data.params),
            "tags": tags(stored_tags),
        },
        "inputs": {
            "dataset_inputs": [
                {
                    "dataset": {"name": i.id, "digest": "", "source_type": i.kind, "source": ""},
                    "tags": [{"key": "mlflow.data.context", "value": i.context}]
                    if i.context
                    else [],
                }
                for i in found.inputs
            ]
        },
    }


def run_info(found: Run) -> dict[str, Any]:
    info = found.info
    return {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": artifact_uri(artifact_prefix(info.run_id)),
        "lifecycle_stage": info.lifecycle_stage,
    }


def runs(store: MetadataStore, found: Iterable[Run]) -> list[dict[str, Any]]:
    listed = list(found)
    metrics = latest_metrics(store, [r.info.run_id for r in listed])
    return [run(r, metrics[r.info.run_id]) for r in listed]


def model_version(found: ModelVersion) -> dict[str, Any]:
    shown_tags = {k: v for k, v in found.tags.items() if k != MODEL_ID_TAG}
    answer: dict[str, Any] = {
        "name": found.name,
        "version": str(found.version),
        "creation_timestamp": found.creation_timestamp,
        "last_updated_timestamp": found.last_updated_timestamp,
        "user_id": found.user_id,
        "current_stage": "None",
        "description": found.description,
        "source": artifact_uri(found.source),
        "run_id": found.run_id or "",
        "status": "READY",  # registration is synchronous: a version exists only once ready
        "tags": pairs(shown_tags),
        "aliases": list(found.aliases),
    }
    if MODEL_ID_TAG in found.tags:
        answer["model_id"] = found.tags[MODEL_ID_TAG]
    return answer


def registered_model(found: RegisteredModel, latest: ModelVersion | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "name": found.name,
        "creation_timestamp": found.creation_timestamp,
        "last_updated_timestamp": found.last_updated_timestamp,
        "description": found.description,
        "tags": pairs(found.tags),
        "aliases": [
            {"alias": alias, "version": str(version)}
            for alias, version in sorted(found.aliases.items())
        ],
    }
    if latest is not None:
        answer["latest_versions"] = [model_version(latest)]
    return answer
