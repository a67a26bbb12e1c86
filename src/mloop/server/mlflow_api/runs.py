"""``/api/2.0/mlflow/runs/...`` and ``metrics/get-history``: MLflow's run calls on mloop's runs.

The run's user is the authenticated principal, never the ``user_id`` or ``mlflow.user``
the client declares; ``mlflow.parentRunId`` makes a nested run a child run.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.server.mlflow_api import entities, values
from mloop.server.mlflow_api.experiments import resolve
from mloop.server.mlflow_api.protocol import (
    ERRORS,
    Body,
    Int64,
    MlflowRoute,
    check_max_results,
    decode_token,
    encode_token,
    required,
)
from mloop.store import get_artifacts, get_store, lineage
from mloop.tracking import experiments, names, runs
from mloop.tracking.entities import TERMINAL
from mloop.tracking.system_tags import PARENT_RUN_ID, RUN_NAME, canonical
from mloop.tracking.tracker import get_tracker

MODEL_HISTORY = "mlflow.log-model.history"


class Pair(Body):
    key: str
    value: str | None = ""


class CreateRun(Body):
    experiment_id: str = "0"
    user_id: str | None = None  # ignored: the principal is the user
    run_name: str | None = None
    start_time: Int64 | None = None
    tags: list[Pair] = Field(default_factory=list)


class RunRef(Body):
    run_id: str | None = None
    run_uuid: str | None = None  # MLflow's older name

    @property
    def id(self) -> str:
        return run_id_of(self.run_id, self.run_uuid)


def run_id_of(run_id: str | None, run_uuid: str | None) -> str:
    return str(required(run_id or run_uuid, "run_id"))


class UpdateRun(RunRef):
    status: str | None = None
    end_time: Int64 | None = None
    run_name: str | None = None


class LogMetric(RunRef):
    key: str
    value: float | str
    timestamp: Int64 | None = None
    step: Int64 | None = 0


class LogParam(RunRef):
    key: str
    value: str | None = ""


class SetTag(RunRef):
    key: str
    value: str | None = ""


class DeleteTag(RunRef):
    key: str


class MetricIn(Body):
    key: str
    value: float | str
    timestamp: Int64 | None = None
    step: Int64 | None = 0
    model_id: str | None = None  # MLflow 3 re-logs a run's values to link them to a model


class LogBatch(RunRef):
    metrics: list[MetricIn] = Field(default_factory=list)
    params: list[Pair] = Field(default_factory=list)
    tags: list[Pair] = Field(default_factory=list)


class LogModel(RunRef):
    model_json: str


class DatasetIn(Body):
    name: str
    digest: str = ""
    source_type: str = ""
    source: str = ""


class DatasetInputIn(Body):
    dataset: DatasetIn
    tags: list[Pair] = Field(default_factory=list)


class LogInputs(RunRef):
    datasets: list[DatasetInputIn] = Field(default_factory=list)


def _get_run(run_id: str) -> dict[str, Any]:
    store = get_store()
    found = runs.get(store, run_id)
    return entities.run(found, entities.latest_metrics(store, [run_id])[run_id])


def create_router(read: Any, write: Any) -> APIRouter:
    router = APIRouter(route_class=MlflowRoute, responses=ERRORS, tags=["MLflow: runs"])
    prefix = "/api/2.0/mlflow/runs"
    reads = [Depends(read)]
    writes = [Depends(write)]

    @router.post(f"{prefix}/create", dependencies=writes)
    def create_run(body: CreateRun) -> dict[str, Any]:
        store = get_store()
        experiment = experiments.check_active(resolve(store, body.experiment_id))
        tags = dict(values.tag_row("", t.key, t.value)[1:] for t in body.tags)
        actor = current_actor()
        tags["mloop.user"] = actor  # never the name the client declares
        parent = tags.pop(PARENT_RUN_ID, None) or None
        if parent is not None:
            runs.get(store, parent)  # the parent must exist
        name = body.run_name or tags.get(RUN_NAME) or names.run_name()
        tags[RUN_NAME] = name
        run_id = new_id()
        runs.create(
            store,
            run_id=run_id,
            experiment_id=experiment.experiment_id,
            run_name=name,
            user=actor,
            artifact_uri=get_artifacts().uri(runs.artifact_prefix(run_id)),
            parent_run_id=parent,
            tags=tags,
            start_time=body.start_time,
        )
        get_tracker().writer.keep_alive(run_id)  # heartbeats while this server runs
        return {"run": _get_run(run_id)}

    @router.get(f"{prefix}/get", dependencies=reads)
    def get_run(
        run_id: str | None = Query(None), run_uuid: str | None = Query(None)
    ) -> dict[str, Any]:
        return {"run": _get_run(run_id_of(run_id, run_uuid))}

    @router.post(f"{prefix}/update", dependencies=writes)
    def update_run(body: UpdateRun) -> dict[str, Any]:
        store = get_store()
        run_id = body.id
        if body.run_name:
            values.check_active(store, run_id)
            values.write(store, run_id, tags=[(run_id, RUN_NAME, body.run_name)])
        if body.status:
            runs.set_status(store, run_id, body.status, body.end_time or now_ms())
            if body.status in TERMINAL:
                get_tracker().writer.let_go(run_id)
        return {"run_info": entities.run_info(runs.get(store, run_id))}

    @router.post(f"{prefix}/delete", dependencies=writes)
    def delete_run(body: RunRef) -> dict[str, Any]:
        runs.set_lifecycle(get_store(), body.id, "deleted")
        return {}

    @router.post(f"{prefix}/restore", dependencies=writes)
    def restore_run(body: RunRef) -> dict[str, Any]:
        runs.set_lifecycle(get_store(), body.id, "active")
        return {}

    @router.post(f"{prefix}/log-metric", dependencies=writes)
    def log_metric(body: LogMetric) -> dict[str, Any]:
        store, run_id = get_store(), body.id
        row = values.metric_row(run_id, body.key, body.value, body.step, body.timestamp)
        values.check_active(store, run_id)
        values.write(store, run_id, metrics=[row])
        return {}

    @router.post(f"{prefix}/log-parameter", dependencies=writes)
    def log_param(body: LogParam) -> dict[str, Any]:
        store, run_id = get_store(), body.id
        row = values.param_row(run_id, body.key, body.value)
        values.check_active(store, run_id)
        values.write(store, run_id, params=[row])
        return {}

    @router.post(f"{prefix}/set-tag", dependencies=writes)
    def set_tag(body: SetTag) -> dict[str, Any]:
        store, run_id = get_store(), body.id
        row = values.tag_row(run_id, body.key, body.value)
        values.check_active(store, run_id)
        values.write(store, run_id, tags=[row])
        return {}

    @router.post(f"{prefix}/delete-tag", dependencies=writes)
    def delete_tag(body: DeleteTag) -> dict[str, Any]:
        runs.delete_tag(get_store(), body.id, canonical(body.key))
        return {}

    @router.post(f"{prefix}/log-batch", dependencies=writes)
    def log_batch(body: LogBatch) -> dict[str, Any]:
        store, run_id = get_store(), body.id
        values.check_batch_size(len(body.metrics), len(body.params), len(body.tags))
        metrics = [
            values.metric_row(run_id, m.key, m.value, m.step, m.timestamp) for m in body.metrics
        ]
        linked = {m.key for m in body.metrics if m.model_id}
        if linked:
            metrics = values.without_stored(store, run_id, metrics, linked)
        params = [values.param_row(run_id, p.key, p.value) for p in body.params]
        tags = [values.tag_row(run_id, t.key, t.value) for t in body.tags]
        values.check_active(store, run_id)
        values.write(store, run_id, metrics, params, tags)
        return {}

    @router.post(f"{prefix}/log-inputs", dependencies=writes)
    def log_inputs(body: LogInputs) -> dict[str, Any]:
        store, run_id = get_store(), body.id
        values.check_active(store, run_id)
        edges: list[tuple[lineage.Node, str, lineage.Node, dict[str, Any] | None]] = []
        for given in body.datasets:
            dataset = given.dataset
            context = next((t.value for t in given.tags if t.key == "mlflow.data.context"), None)
            properties: dict[str, Any] = {"name": dataset.name, "digest": dataset.digest}
            if context:
                properties["context"] = context
            node = lineage.Node("external", f"mlflow-dataset:{dataset.name}:{dataset.digest}")
            edges.append((node, "input_of", lineage.Node("run", run_id), properties))
        if edges:
            lineage.add_edges(store, edges)
        return {}

    @router.post(f"{prefix}/log-model", dependencies=writes)
    def log_model(body: LogModel) -> dict[str, Any]:
        """Append the model's description to the run's ``mlflow.log-model.history`` tag."""
        store, run_id = get_store(), body.id
        try:
            described = json.loads(body.model_json)
        except ValueError:
            described = None
        if not isinstance(described, dict):
            raise InvalidInput(
                f"field 'model_json' is not a JSON object ({body.model_json[:60]!r}); send "
                "the model's MLmodel content as JSON."
            )
        values.check_active(store, run_id)
        history = json.loads(runs.get(store, run_id).data.tags.get(MODEL_HISTORY, "[]"))
        history.append(described)
        values.write(store, run_id, tags=[(run_id, MODEL_HISTORY, json.dumps(history))])
        return {}

    @router.get("/api/2.0/mlflow/metrics/get-history", dependencies=reads)
    def get_metric_history(
        metric_key: str = Query(),
        run_id: str | None = Query(None),
        run_uuid: str | None = Query(None),
        max_results: Int64 | None = Query(None),
        page_token: str | None = Query(None),
    ) -> dict[str, Any]:
        store = get_store()
        run = run_id_of(run_id, run_uuid)
        runs.get(store, run)  # a missing run is an error, not an empty history
        history = runs.metric_history(store, run, metric_key)
        limit = check_max_results(max_results, 25_000, 25_000, "max_results")
        offset = decode_token(page_token)
        page = history[offset : offset + limit]
        answer: dict[str, Any] = {"metrics": [entities.metric(m) for m in page]}
        if offset + limit < len(history):
            answer["next_page_token"] = encode_token(offset + limit)
        return answer

    return router
