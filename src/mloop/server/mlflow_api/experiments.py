"""``/api/2.0/mlflow/experiments/...``: MLflow's experiment calls on mloop's experiments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from mloop.core.config import get_settings
from mloop.core.errors import NotFound
from mloop.server.mlflow_api import entities
from mloop.server.mlflow_api.names import name_filter
from mloop.server.mlflow_api.protocol import (
    ERRORS,
    Body,
    Int64,
    MlflowError,
    MlflowRoute,
    check_max_results,
    decode_token,
    encode_token,
    required,
)
from mloop.store import get_store
from mloop.store.db import MetadataStore
from mloop.tracking import experiments
from mloop.tracking.entities import Experiment
from mloop.tracking.search import view_type
from mloop.tracking.tracker import check_key

_VIEWS = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}


class Tag(Body):
    key: str
    value: str = ""


class CreateExperiment(Body):
    name: str
    artifact_location: str | None = None
    tags: list[Tag] = Field(default_factory=list)


class ExperimentId(Body):
    experiment_id: str


class UpdateExperiment(Body):
    experiment_id: str
    new_name: str


class SetExperimentTag(Body):
    experiment_id: str
    key: str
    value: str = ""


class DeleteExperimentTag(Body):
    experiment_id: str
    key: str


class SearchExperiments(Body):
    max_results: Int64 | None = None
    page_token: str | None = None
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    view_type: str | int | None = None


DEFAULT_ID = "0"  # MLflow's client uses it when no experiment is set


def resolve(store: MetadataStore, experiment_id: str) -> Experiment:
    """The experiment an MLflow id names: ``"0"`` is mloop's default experiment (the
    ``experiment`` setting, created on first use), as MLflow's ``Default`` is id 0."""
    if str(experiment_id).strip() == DEFAULT_ID:
        return experiments.get_or_create(store, get_settings().experiment)
    return experiments.get(store, experiment_id)


def _ordered(found: list[Experiment], order_by: list[str]) -> list[Experiment]:
    keys = {
        "name": lambda e: e.name,
        "experiment_id": lambda e: int(e.experiment_id),
        "creation_time": lambda e: e.creation_time,
        "last_update_time": lambda e: e.last_update_time,
    }
    terms = order_by or ["creation_time DESC"]
    for term in reversed(terms):
        parts = term.split()
        field = parts[0].removeprefix("attributes.") if parts else ""
        direction = parts[1].upper() if len(parts) > 1 else "ASC"
        if field not in keys or direction not in ("ASC", "DESC") or len(parts) > 2:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"order_by {term!r} is not valid; use one of {', '.join(keys)} with ASC or DESC.",
            )
        found = sorted(found, key=keys[field], reverse=direction == "DESC")
    return found


def create_router(read: Any, write: Any) -> APIRouter:
    router = APIRouter(route_class=MlflowRoute, responses=ERRORS, tags=["MLflow: experiments"])
    prefix = "/api/2.0/mlflow/experiments"
    reads = [Depends(read)]
    writes = [Depends(write)]

    @router.post(f"{prefix}/create", dependencies=writes)
    def create_experiment(body: CreateExperiment) -> dict[str, Any]:
        tags = {check_key(t.key, "tag"): t.value for t in body.tags}
        # where artifacts go is the server's configuration, never the client's choice
        created = experiments.create(get_store(), required(body.name, "name"), None, tags)
        return {"experiment_id": created.experiment_id}

    @router.get(f"{prefix}/get", dependencies=reads)
    def get_experiment(experiment_id: str = Query()) -> dict[str, Any]:
        return {"experiment": entities.experiment(resolve(get_store(), experiment_id))}

    @router.get(f"{prefix}/get-by-name", dependencies=reads)
    def get_experiment_by_name(experiment_name: str = Query()) -> dict[str, Any]:
        found = experiments.get_by_name(get_store(), experiment_name)
        if found is None:
            raise NotFound(f"experiment {experiment_name!r} does not exist.")
        return {"experiment": entities.experiment(found)}

    @router.post(f"{prefix}/search", dependencies=reads)
    def search_experiments(body: SearchExperiments) -> dict[str, Any]:
        limit = check_max_results(body.max_results, 1000, 50_000, "max_results")
        offset = decode_token(body.page_token)
        stages = _VIEWS[view_type(body.view_type or "ACTIVE_ONLY")]
        matches = name_filter(body.filter, "search_experiments")
        found = [
            e
            for e in experiments.search(get_store())
            if e.lifecycle_stage in stages and matches(e.name)
        ]
        page = _ordered(found, body.order_by)[offset : offset + limit]
        answer: dict[str, Any] = {"experiments": [entities.experiment(e) for e in page]}
        if offset + limit < len(found):
            answer["next_page_token"] = encode_token(offset + limit)
        return answer

    @router.post(f"{prefix}/update", dependencies=writes)
    def update_experiment(body: UpdateExperiment) -> dict[str, Any]:
        experiments.rename(get_store(), body.experiment_id, body.new_name)
        return {}

    @router.post(f"{prefix}/delete", dependencies=writes)
    def delete_experiment(body: ExperimentId) -> dict[str, Any]:
        experiments.set_lifecycle(get_store(), body.experiment_id, "deleted")
        return {}

    @router.post(f"{prefix}/restore", dependencies=writes)
    def restore_experiment(body: ExperimentId) -> dict[str, Any]:
        experiments.set_lifecycle(get_store(), body.experiment_id, "active")
        return {}

    @router.post(f"{prefix}/set-experiment-tag", dependencies=writes)
    def set_experiment_tag(body: SetExperimentTag) -> dict[str, Any]:
        experiments.set_tags(
            get_store(), body.experiment_id, {check_key(body.key, "tag"): body.value}
        )
        return {}

    @router.post(f"{prefix}/delete-experiment-tag", dependencies=writes)
    def delete_experiment_tag(body: DeleteExperimentTag) -> dict[str, Any]:
        experiments.delete_tag(get_store(), body.experiment_id, body.key)
        return {}

    return router
