"""``/api/2.0/mlflow/logged-models...``: the models an MLflow 3 client logs before registering.

A logged model is a record (``logged_models/<id>/record.json``, checksummed like every
artifact) and a folder of files (``logged_models/<id>/artifacts/``) that the client
uploads through the artifact routes. When it was logged in a run, a lineage edge
``run --produced--> artifact`` links the run to the folder. Listing reads every record:
fine for the models of a team, not an index for millions (docs/mlflow-compat.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.server.mlflow_api import entities, listing
from mloop.server.mlflow_api.experiments import resolve
from mloop.server.mlflow_api.protocol import (
    ERRORS,
    Body,
    Int64,
    MlflowError,
    MlflowRoute,
    check_max_results,
    decode_token,
    encode_token,
)
from mloop.store import get_artifacts, get_store, lineage
from mloop.tracking import experiments, runs
from mloop.tracking.tracker import check_key

ROOT = "logged_models"
_ID = re.compile(r"^m-[0-9a-f]{32}$")
_FIELDS = ("name", "model_id", "source_run_id", "status", "model_type")
_TERM = re.compile(
    r"^\s*(?:attributes\.)?(?P<field>" + "|".join(_FIELDS) + r")\s*(?P<op>=|!=)\s*"
    r"'(?P<value>(?:[^']|'')*)'\s*$"
)
_STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


def folder(model_id: str) -> str:
    """The artifact-store folder of a logged model's files."""
    return f"{ROOT}/{check_id(model_id)}/artifacts"


def check_id(model_id: str) -> str:
    if not _ID.match(model_id):
        raise NotFound(
            f"logged model {model_id!r} does not exist; model ids look like 'm-' and 32 hex digits."
        )
    return model_id


def _record_key(model_id: str) -> str:
    return f"{ROOT}/{check_id(model_id)}/record.json"


def load(model_id: str) -> dict[str, Any]:
    """The record of a logged model, or NotFound."""
    artifacts = get_artifacts()
    key = _record_key(model_id)
    if not artifacts.exists(key):
        raise NotFound(f"logged model {model_id!r} does not exist.")
    record: dict[str, Any] = json.loads(artifacts.get_bytes(key))
    return record


def _save(record: dict[str, Any]) -> dict[str, Any]:
    record["last_updated_timestamp_ms"] = now_ms()
    get_artifacts().put_bytes(_record_key(record["model_id"]), json.dumps(record).encode())
    return record


def as_json(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "info": {
            "model_id": record["model_id"],
            "experiment_id": record["experiment_id"],
            "name": record["name"],
            "creation_timestamp_ms": record["creation_timestamp_ms"],
            "last_updated_timestamp_ms": record["last_updated_timestamp_ms"],
            "artifact_uri": entities.artifact_uri(folder(record["model_id"])),
            "status": record["status"],
            "model_type": record.get("model_type") or "",
            "source_run_id": record.get("source_run_id") or "",
            "status_message": record.get("status_message") or "",
            "tags": entities.pairs(record["tags"]),
        },
        "data": {"params": entities.pairs(record["params"]), "metrics": []},
    }


class Pair(Body):
    key: str
    value: str | None = ""


class CreateLoggedModel(Body):
    experiment_id: str
    name: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[Pair] = Field(default_factory=list)
    tags: list[Pair] = Field(default_factory=list)


class Finalize(Body):
    status: str


class Tags(Body):
    tags: list[Pair] = Field(default_factory=list)


class Params(Body):
    params: list[Pair] = Field(default_factory=list)


class ModelOutput(Body):
    model_id: str
    step: Int64 = 0


class LogOutputs(Body):
    run_id: str
    models: list[ModelOutput] = Field(default_factory=list)


class SearchLoggedModels(Body):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    max_results: Int64 | None = None
    page_token: str | None = None


def _pairs(given: list[Pair], what: str) -> dict[str, str]:
    return {check_key(p.key, what): p.value or "" for p in given}


def _filter(filter_string: str | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate on records for ``name = 'x' and source_run_id = 'y'``-style filters."""
    terms = []
    for part in re.split(r"\s+and\s+", filter_string or "", flags=re.IGNORECASE):
        if not part.strip():
            continue
        match = _TERM.match(part)
        if match is None:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"filter {filter_string!r}: this server filters logged models by "
                f"{', '.join(_FIELDS)} with = or != and a quoted value, joined with and.",
            )
        terms.append((match["field"], match["op"], match["value"].replace("''", "'")))

    def matches(record: dict[str, Any]) -> bool:
        return all(
            (str(record.get(field) or "") == value) == (op == "=") for field, op, value in terms
        )

    return matches


def link_run(run_id: str, model_id: str) -> None:
    """Record that the run produced the logged model's files."""
    lineage.add_edge(
        get_store(),
        lineage.Node("run", run_id),
        "produced",
        lineage.Node("artifact", folder(model_id)),
    )


def create_router(read: Any, write: Any) -> APIRouter:
    router = APIRouter(route_class=MlflowRoute, responses=ERRORS, tags=["MLflow: logged models"])
    prefix = "/api/2.0/mlflow/logged-models"
    reads = [Depends(read)]
    writes = [Depends(write)]

    @router.post(prefix, dependencies=writes)
    def create_logged_model(body: CreateLoggedModel) -> dict[str, Any]:
        store = get_store()
        experiment = experiments.check_active(resolve(store, body.experiment_id))
        if body.source_run_id:
            runs.get(store, body.source_run_id)
        model_id = f"m-{new_id()}"
        now = now_ms()
        record = {
            "model_id": model_id,
            "experiment_id": experiment.experiment_id,
            "name": body.name or model_id,
            "model_type": body.model_type,
            "source_run_id": body.source_run_id,
            "status": "LOGGED_MODEL_PENDING",
            "creator": current_actor(),
            "creation_timestamp_ms": now,
            "params": _pairs(body.params, "param"),
            "tags": _pairs(body.tags, "tag"),
        }
        _save(record)
        if body.source_run_id:
            link_run(body.source_run_id, model_id)
        return {"model": as_json(record)}

    @router.post("/api/2.0/mlflow/runs/outputs", dependencies=writes)
    def log_outputs(body: LogOutputs) -> dict[str, Any]:
        if not runs.exists(get_store(), body.run_id):
            raise NotFound(f"run {body.run_id!r} does not exist.")
        for output in body.models:
            load(output.model_id)
        for output in body.models:
            link_run(body.run_id, output.model_id)
        return {}

    @router.post(f"{prefix}/search", dependencies=reads)
    def search_logged_models(body: SearchLoggedModels) -> dict[str, Any]:
        matches = _filter(body.filter)
        limit = check_max_results(body.max_results, 100, 1000, "max_results")
        offset = decode_token(body.page_token)
        wanted = {str(i) for i in body.experiment_ids}
        artifacts = get_artifacts()
        found = []
        for key in artifacts.list(ROOT):
            if key.endswith("/record.json") and key.count("/") == 2:
                record = json.loads(artifacts.get_bytes(key))
                if (not wanted or record["experiment_id"] in wanted) and matches(record):
                    found.append(record)
        found.sort(key=lambda r: r["creation_timestamp_ms"], reverse=True)
        answer: dict[str, Any] = {"models": [as_json(r) for r in found[offset : offset + limit]]}
        if offset + limit < len(found):
            answer["next_page_token"] = encode_token(offset + limit)
        return answer

    @router.get(prefix + "/{model_id}", dependencies=reads)
    def get_logged_model(model_id: str = Path()) -> dict[str, Any]:
        return {"model": as_json(load(model_id))}

    @router.patch(prefix + "/{model_id}", dependencies=writes)
    def finalize_logged_model(body: Finalize, model_id: str = Path()) -> dict[str, Any]:
        if body.status not in _STATUSES:
            raise InvalidInput(
                f"status {body.status!r} is not valid; use one of {', '.join(_STATUSES)}."
            )
        record = load(model_id)
        record["status"] = body.status
        return {"model": as_json(_save(record))}

    @router.delete(prefix + "/{model_id}", dependencies=writes)
    def delete_logged_model(model_id: str = Path()) -> dict[str, Any]:
        load(model_id)
        artifacts = get_artifacts()
        for key in artifacts.list(f"{ROOT}/{model_id}"):
            artifacts.delete(key)
        return {}

    @router.patch(prefix + "/{model_id}/tags", dependencies=writes)
    def set_logged_model_tags(body: Tags, model_id: str = Path()) -> dict[str, Any]:
        record = load(model_id)
        record["tags"].update(_pairs(body.tags, "tag"))
        return {"model": as_json(_save(record))}

    @router.delete(prefix + "/{model_id}/tags/{tag_key}", dependencies=writes)
    def delete_logged_model_tag(model_id: str = Path(), tag_key: str = Path()) -> dict[str, Any]:
        record = load(model_id)
        if tag_key not in record["tags"]:
            raise NotFound(f"logged model {model_id} has no tag {tag_key!r}; nothing to delete.")
        del record["tags"][tag_key]
        _save(record)
        return {}

    @router.post(prefix + "/{model_id}/params", dependencies=writes)
    def log_logged_model_params(body: Params, model_id: str = Path()) -> dict[str, Any]:
        record = load(model_id)
        record["params"].update(_pairs(body.params, "param"))
        _save(record)
        return {}

    @router.get(prefix + "/{model_id}/artifacts/directories", dependencies=reads)
    def list_logged_model_artifacts(
        model_id: str = Path(), artifact_directory_path: str | None = Query(None)
    ) -> dict[str, Any]:
        load(model_id)
        base = folder(model_id)
        path = (artifact_directory_path or "").strip("/")
        return {
            "root_uri": entities.artifact_uri(base),
            "files": listing.children(get_artifacts(), f"{base}/{path}" if path else base),
        }

    return router
