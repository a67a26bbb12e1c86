"""``/api/2.0/mlflow/registered-models/...`` and ``model-versions/...`` on mloop's registry.

Registering a version records the artifact-store folder of the model (a logged model's,
a run's, or any ``mlflow-artifacts:`` key the API may reach) and prepares it for mloop's
loader when its format is safe (:mod:`.mlflow_models`). Alias moves are audited as
through the Python API.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from mloop.core.errors import InvalidInput
from mloop.registry import edits, versions
from mloop.registry.entities import ModelVersion
from mloop.server.mlflow_api import artifacts, entities, logged_models, mlflow_models
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
)
from mloop.store import get_artifacts
from mloop.tracking.runs import artifact_prefix
from mloop.tracking.tracker import check_key

_RUNS_URI = re.compile(r"^runs:/(?P<run>[0-9a-f]{32})/(?P<path>.*)$")
_MODELS_URI = re.compile(r"^models:/(?P<model>m-[0-9a-f]{32})/?$")
_VERSION_FILTER = re.compile(r"^\s*(name|run_id)\s*=\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_HTTP_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/"


class Pair(Body):
    key: str
    value: str | None = ""


class CreateRegisteredModel(Body):
    name: str
    description: str = ""
    tags: list[Pair] = Field(default_factory=list)


class ModelName(Body):
    name: str


class UpdateRegisteredModel(Body):
    name: str
    description: str = ""


class ModelTag(Body):
    name: str
    key: str
    value: str | None = ""


class CreateModelVersion(Body):
    name: str
    source: str
    run_id: str | None = None
    description: str = ""
    tags: list[Pair] = Field(default_factory=list)
    model_id: str | None = None


class VersionRef(Body):
    name: str
    version: str


class UpdateModelVersion(VersionRef):
    description: str = ""


class VersionTag(VersionRef):
    key: str
    value: str | None = ""


class SetAlias(Body):
    name: str
    alias: str
    version: str


class AliasRef(Body):
    name: str
    alias: str


class LatestVersions(Body):
    name: str
    stages: list[str] = Field(default_factory=list)


def source_folder(source: str) -> tuple[str, str | None]:
    """The artifact-store folder a version's ``source`` names, and its logged model id."""
    match = _MODELS_URI.match(source)
    if match:
        model_id = match["model"]
        logged_models.load(model_id)
        return logged_models.folder(model_id), model_id
    match = _RUNS_URI.match(source)
    if match:
        path = match["path"].strip("/")
        key = f"{artifact_prefix(match['run'])}/{path}" if path else artifact_prefix(match["run"])
        return artifacts.reachable(key), None
    given = entities.key_of(source)
    if given is None and _HTTP_ANCHOR in source:
        given = source.split(_HTTP_ANCHOR, 1)[1]
    if given is None:
        raise InvalidInput(
            f"model version source {source!r} is not one this server stores; use models:/<model "
            "id>, runs:/<run id>/<path> or the mlflow-artifacts: URI of the model's files."
        )
    key = artifacts.reachable(given)
    found = re.match(r"^logged_models/(m-[0-9a-f]{32})/", key + "/")
    return key, found.group(1) if found else None


def _version(name: str, version: str) -> ModelVersion:
    if not version.isdigit() or len(version) > 18:
        raise InvalidInput(f"version {version!r} is not a version number; give e.g. '1'.")
    return versions.get_version(name, int(version))


def _page(items: list[Any], max_results: int | None, token: str | None, limit: int) -> Any:
    size = check_max_results(max_results, 100, limit, "max_results")
    offset = decode_token(token)
    next_token = encode_token(offset + size) if offset + size < len(items) else None
    return items[offset : offset + size], next_token


def _model_json(name: str) -> dict[str, Any]:
    model = versions.get_model(name)
    latest = versions.get_version(name, model.latest_version) if model.latest_version else None
    return entities.registered_model(model, latest)


def create_router(read: Any, write: Any) -> APIRouter:
    router = APIRouter(route_class=MlflowRoute, responses=ERRORS, tags=["MLflow: model registry"])
    models = "/api/2.0/mlflow/registered-models"
    mvs = "/api/2.0/mlflow/model-versions"
    reads = [Depends(read)]
    writes = [Depends(write)]

    @router.post(f"{models}/create", dependencies=writes)
    def create_registered_model(body: CreateRegisteredModel) -> dict[str, Any]:
        tags = {check_key(t.key, "tag"): t.value or "" for t in body.tags}
        edits.create_model(body.name, body.description, tags)
        return {"registered_model": _model_json(body.name)}

    @router.get(f"{models}/get", dependencies=reads)
    def get_registered_model(name: str = Query()) -> dict[str, Any]:
        return {"registered_model": _model_json(name)}

    @router.get(f"{models}/search", dependencies=reads)
    def search_registered_models(
        filter: str | None = Query(None),
        max_results: Int64 | None = Query(None),
        page_token: str | None = Query(None),
    ) -> dict[str, Any]:
        matches = name_filter(filter, "search_registered_models")
        names = [m.name for m in versions.list_models() if matches(m.name)]
        page, token = _page(names, max_results, page_token, 1000)
        answer: dict[str, Any] = {"registered_models": [_model_json(n) for n in page]}
        if token:
            answer["next_page_token"] = token
        return answer

    @router.patch(f"{models}/update", dependencies=writes)
    def update_registered_model(body: UpdateRegisteredModel) -> dict[str, Any]:
        edits.update_model(body.name, body.description)
        return {"registered_model": _model_json(body.name)}

    @router.delete(f"{models}/delete", dependencies=writes)
    def delete_registered_model(body: ModelName) -> dict[str, Any]:
        edits.delete_model(body.name)
        return {}

    @router.post(f"{models}/set-tag", dependencies=writes)
    def set_registered_model_tag(body: ModelTag) -> dict[str, Any]:
        edits.set_model_tag(body.name, check_key(body.key, "tag"), body.value or "")
        return {}

    @router.delete(f"{models}/delete-tag", dependencies=writes)
    def delete_registered_model_tag(body: ModelTag) -> dict[str, Any]:
        edits.delete_model_tag(body.name, body.key)
        return {}

    @router.post(f"{models}/get-latest-versions", dependencies=reads)
    def get_latest_versions(body: LatestVersions) -> dict[str, Any]:
        model = versions.get_model(body.name)
        wanted = {s.lower() for s in body.stages}
        if model.latest_version is None or (wanted and "none" not in wanted):
            return {"model_versions": []}  # mloop has no stages: every version is in "None"
        latest = versions.get_version(body.name, model.latest_version)
        return {"model_versions": [entities.model_version(latest)]}

    @router.post(f"{models}/alias", dependencies=writes)
    def set_alias(body: SetAlias) -> dict[str, Any]:
        versions.set_alias(body.name, body.alias, _version(body.name, body.version).version)
        return {}

    @router.get(f"{models}/alias", dependencies=reads)
    def get_version_by_alias(name: str = Query(), alias: str = Query()) -> dict[str, Any]:
        if alias.isdigit() or alias == "latest":
            raise InvalidInput(f"alias {alias!r} is not an alias name; give e.g. 'champion'.")
        return {"model_version": entities.model_version(versions.get_version(name, alias))}

    @router.delete(f"{models}/alias", dependencies=writes)
    def delete_alias(body: AliasRef) -> dict[str, Any]:
        versions.delete_alias(body.name, body.alias)
        return {}

    @router.post(f"{mvs}/create", dependencies=writes)
    def create_model_version(body: CreateModelVersion) -> dict[str, Any]:
        folder, model_id = source_folder(body.source)
        model_id = body.model_id or model_id
        run_id = body.run_id or None
        if model_id and run_id is None:
            run_id = logged_models.load(model_id).get("source_run_id") or None
        prepared = mlflow_models.prepare(get_artifacts(), folder, run_id, model_id)
        tags = {check_key(t.key, "tag"): t.value or "" for t in body.tags}
        tags.update(prepared.tags)
        if model_id:
            tags[entities.MODEL_ID_TAG] = model_id
        created = versions.create_version(
            body.name,
            folder,
            prepared.flavor,
            run_id,
            prepared.signature,
            description=body.description,
            tags=tags,
        )
        return {"model_version": entities.model_version(created)}

    @router.get(f"{mvs}/get", dependencies=reads)
    def get_model_version(name: str = Query(), version: str = Query()) -> dict[str, Any]:
        return {"model_version": entities.model_version(_version(name, version))}

    @router.patch(f"{mvs}/update", dependencies=writes)
    def update_model_version(body: UpdateModelVersion) -> dict[str, Any]:
        target = _version(body.name, body.version).version
        updated = versions.update_version(body.name, target, description=body.description)
        return {"model_version": entities.model_version(updated)}

    @router.delete(f"{mvs}/delete", dependencies=writes)
    def delete_model_version(body: VersionRef) -> dict[str, Any]:
        edits.delete_version(body.name, _version(body.name, body.version).version)
        return {}

    @router.get(f"{mvs}/search", dependencies=reads)
    def search_model_versions(
        filter: str | None = Query(None),
        max_results: Int64 | None = Query(None),
        page_token: str | None = Query(None),
    ) -> dict[str, Any]:
        criteria: dict[str, str] = {}
        for part in re.split(r"\s+and\s+", filter or "", flags=re.IGNORECASE):
            if not part.strip():
                continue
            match = _VERSION_FILTER.match(part)
            if match is None:
                raise MlflowError(
                    "INVALID_PARAMETER_VALUE",
                    f"filter {filter!r}: this server filters model versions by name = '...' "
                    "and/or run_id = '...' (joined with and).",
                )
            criteria[match.group(1).lower()] = match.group(2).replace("''", "'")
        found = versions.list_versions(name=criteria.get("name"), run_id=criteria.get("run_id"))
        page, token = _page(found, max_results, page_token, 200_000)
        answer: dict[str, Any] = {"model_versions": [entities.model_version(v) for v in page]}
        if token:
            answer["next_page_token"] = token
        return answer

    @router.get(f"{mvs}/get-download-uri", dependencies=reads)
    def get_download_uri(name: str = Query(), version: str = Query()) -> dict[str, Any]:
        return {"artifact_uri": entities.artifact_uri(_version(name, version).source)}

    @router.post(f"{mvs}/set-tag", dependencies=writes)
    def set_model_version_tag(body: VersionTag) -> dict[str, Any]:
        target = _version(body.name, body.version).version
        versions.set_version_tag(body.name, target, check_key(body.key, "tag"), body.value or "")
        return {}

    @router.delete(f"{mvs}/delete-tag", dependencies=writes)
    def delete_model_version_tag(body: VersionTag) -> dict[str, Any]:
        edits.delete_version_tag(body.name, _version(body.name, body.version).version, body.key)
        return {}

    return router
