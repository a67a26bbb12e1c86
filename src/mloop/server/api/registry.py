"""``/api/v1/models``: registered models, versions, aliases and tags.

Protected aliases (setting ``protected_aliases``, ``champion`` by default) move only by a
workspace admin here (or through a gate, :func:`mloop.registry.promote`); every move is in
the audit log with the authenticated actor.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from mloop.core.config import get_settings
from mloop.core.principal import Principal
from mloop.registry import versions
from mloop.registry.entities import ModelVersion, RegisteredModel
from mloop.server.api import scoping
from mloop.server.auth import owners, read, write
from mloop.server.auth.errors import Forbidden
from mloop.store import get_store

VersionNumber = Annotated[int, Path(ge=1, le=2**62, description="version number")]
router = APIRouter(prefix="/api/v1", tags=["registry"])
Reader = Annotated[Principal, Depends(read)]
Writer = Annotated[Principal, Depends(write)]


class NewVersion(BaseModel):
    source: str = Field(min_length=1, description="artifact-store key of the model folder")
    flavor: str = Field(min_length=1)
    run_id: str | None = None
    signature: dict[str, Any] | None = None
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)


class AliasTarget(BaseModel):
    version: int = Field(ge=1, le=2**62)
    reason: str = ""


class TagValue(BaseModel):
    value: str


class VersionUpdate(BaseModel):
    description: str | None = None
    status: str | None = None
    reason: str = ""


def version_json(version: ModelVersion) -> dict[str, Any]:
    return {**version.__dict__, "aliases": list(version.aliases)}


def model_json(model: RegisteredModel) -> dict[str, Any]:
    return dict(model.__dict__)


def protected_aliases() -> set[str]:
    return {a.strip() for a in get_settings().protected_aliases.split(",") if a.strip()}


def _check_alias_move(principal: Principal, alias: str) -> None:
    if alias in protected_aliases() and principal.role != "admin":
        raise Forbidden(
            f"alias {alias!r} is protected: only a workspace admin moves it (or a gate, through "
            f"mloop.registry.promote); user {principal.name!r} is {principal.role}."
        )


@router.get("/models")
def list_models(principal: Reader) -> dict[str, Any]:
    """The registered models of the caller's workspace."""
    found = versions.list_models(store=get_store())
    elsewhere = owners.owned_elsewhere(get_store(), scoping.MODEL, principal.workspace)
    chosen = [m for m in found if m.name not in elsewhere]
    if principal.workspace != "default":
        chosen = [
            m
            for m in chosen
            if owners.workspace_of(get_store(), scoping.MODEL, m.name) == principal.workspace
        ]
    return {"models": [model_json(m) for m in chosen]}


@router.get("/models/{name}")
def get_model(name: str, principal: Reader) -> dict[str, Any]:
    scoping.check_model(principal, name)
    return model_json(versions.get_model(name, store=get_store()))


@router.get("/models/{name}/versions")
def list_versions(name: str, principal: Reader) -> dict[str, Any]:
    scoping.check_model(principal, name)
    return {
        "versions": [version_json(v) for v in versions.list_versions(name=name, store=get_store())]
    }


@router.post("/models/{name}/versions", status_code=201)
def create_version(name: str, body: NewVersion, principal: Writer) -> dict[str, Any]:
    """Register a new version (the model is created in the caller's workspace when new)."""
    store = get_store()
    owners.assign(store, scoping.MODEL, name, principal.workspace)  # first owner wins
    scoping.check_model(principal, name)
    if body.run_id is not None:
        scoping.check_runs(principal, [body.run_id])
    version = versions.create_version(
        name,
        body.source,
        body.flavor,
        body.run_id,
        body.signature,
        body.description,
        body.tags,
        store=store,
    )
    return version_json(version)


@router.get("/models/{name}/versions/{version}")
def get_version(name: str, version: str, principal: Reader) -> dict[str, Any]:
    """A version by number, alias or ``latest``."""
    scoping.check_model(principal, name)
    return version_json(versions.get_version(name, version, store=get_store()))


@router.patch("/models/{name}/versions/{version}")
def update_version(
    name: str, version: VersionNumber, body: VersionUpdate, principal: Writer
) -> dict[str, Any]:
    scoping.check_model(principal, name)
    updated = versions.update_version(
        name,
        version,
        description=body.description,
        status=body.status,
        reason=body.reason,
        store=get_store(),
    )
    return version_json(updated)


@router.put("/models/{name}/versions/{version}/tags/{key}")
def set_version_tag(
    name: str, version: VersionNumber, key: str, body: TagValue, principal: Writer
) -> dict[str, Any]:
    scoping.check_model(principal, name)
    versions.set_version_tag(name, version, key, body.value, store=get_store())
    return version_json(versions.get_version(name, version, store=get_store()))


@router.put("/models/{name}/aliases/{alias}")
def set_alias(name: str, alias: str, body: AliasTarget, principal: Writer) -> dict[str, Any]:
    """Point ``alias`` at a version (protected aliases: admins only); audited."""
    scoping.check_model(principal, name)
    _check_alias_move(principal, alias)
    return version_json(
        versions.set_alias(name, alias, body.version, reason=body.reason, store=get_store())
    )


@router.delete("/models/{name}/aliases/{alias}")
def delete_alias(name: str, alias: str, principal: Writer) -> dict[str, Any]:
    scoping.check_model(principal, name)
    _check_alias_move(principal, alias)
    versions.delete_alias(name, alias, store=get_store())
    return {"name": name, "alias": alias, "deleted": True}
