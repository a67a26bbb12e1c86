"""``/api/v1/experiments``: create, get, list and search, tag, delete and restore."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mloop.core.errors import NotFound
from mloop.core.principal import Principal
from mloop.server.api import scoping
from mloop.server.auth import owners, read, write
from mloop.store import get_store
from mloop.tracking import experiments
from mloop.tracking.entities import Experiment
from mloop.tracking.search import view_type
from mloop.tracking.tracker import check_key

router = APIRouter(prefix="/api/v1", tags=["experiments"])
Reader = Annotated[Principal, Depends(read)]
Writer = Annotated[Principal, Depends(write)]


class NewExperiment(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    artifact_location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class ExperimentTags(BaseModel):
    tags: dict[str, str]


def as_json(experiment: Experiment) -> dict[str, Any]:
    return dict(experiment.__dict__)


@router.post("/experiments", status_code=201)
def create_experiment(body: NewExperiment, principal: Writer) -> dict[str, Any]:
    """Create an experiment in the caller's workspace."""
    store = get_store()
    tags = {check_key(k, "tag"): v for k, v in body.tags.items()}
    experiment = experiments.create(store, body.name, body.artifact_location, tags)
    owners.assign(store, scoping.EXPERIMENT, experiment.experiment_id, principal.workspace)
    return as_json(experiment)


@router.get("/experiments")
def list_experiments(
    principal: Reader,
    name: Annotated[
        str | None, Query(description="only experiments whose name contains this")
    ] = None,
    view: Annotated[str, Query(description="ACTIVE_ONLY, DELETED_ONLY or ALL")] = "ACTIVE_ONLY",
) -> dict[str, Any]:
    """The experiments of the caller's workspace."""
    view = view_type(view)
    found = experiments.search(get_store())
    allowed = set(scoping.visible_experiments(principal, [e.experiment_id for e in found]))
    chosen = [
        e
        for e in found
        if e.experiment_id in allowed
        and (name is None or name in e.name)
        and (view == "ALL" or (view == "ACTIVE_ONLY") == (e.lifecycle_stage == "active"))
    ]
    return {"experiments": [as_json(e) for e in chosen]}


@router.get("/experiments/by-name/{name}")
def get_experiment_by_name(name: str, principal: Reader) -> dict[str, Any]:
    experiment = experiments.get_by_name(get_store(), name)
    if experiment is None:
        raise NotFound(f"experiment {name!r} does not exist in workspace {principal.workspace!r}.")
    scoping.check_experiment(principal, experiment.experiment_id)
    return as_json(experiment)


@router.get("/experiments/{experiment_id}")
def get_experiment(experiment_id: str, principal: Reader) -> dict[str, Any]:
    scoping.check_experiment(principal, experiment_id)
    return as_json(experiments.get(get_store(), experiment_id))


@router.patch("/experiments/{experiment_id}")
def set_experiment_tags(
    experiment_id: str, body: ExperimentTags, principal: Writer
) -> dict[str, Any]:
    """Set tags of an experiment."""
    scoping.check_experiment(principal, experiment_id)
    tags = {check_key(k, "tag"): v for k, v in body.tags.items()}
    experiments.set_tags(get_store(), experiment_id, tags)
    return as_json(experiments.get(get_store(), experiment_id))


@router.post("/experiments/{experiment_id}/delete")
def delete_experiment(experiment_id: str, principal: Writer) -> dict[str, Any]:
    """Delete an experiment and its runs (hidden from searches until restored)."""
    scoping.check_experiment(principal, experiment_id)
    experiments.set_lifecycle(get_store(), experiment_id, "deleted")
    return as_json(experiments.get(get_store(), experiment_id))


@router.post("/experiments/{experiment_id}/restore")
def restore_experiment(experiment_id: str, principal: Writer) -> dict[str, Any]:
    scoping.check_experiment(principal, experiment_id)
    experiments.set_lifecycle(get_store(), experiment_id, "active")
    return as_json(experiments.get(get_store(), experiment_id))
