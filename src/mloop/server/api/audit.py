"""``/api/v1/audit`` (the audit log) and ``/api/v1/lineage`` (what made a model, a run...)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from mloop import lineage
from mloop.core.principal import Principal
from mloop.registry.models import parse_uri
from mloop.server.api import scoping
from mloop.server.auth import admin, read
from mloop.store import audit as audit_log
from mloop.store import get_store

router = APIRouter(prefix="/api/v1", tags=["audit and lineage"])
Reader = Annotated[Principal, Depends(read)]
Admin = Annotated[Principal, Depends(admin)]


@router.get("/audit")
def audit_entries(
    principal: Admin,
    object_kind: Annotated[str | None, Query()] = None,
    object_id: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Audit entries, newest first (workspace admins)."""
    found = audit_log.entries(get_store(), object_kind, object_id, action, limit)
    return {"entries": [entry.__dict__ for entry in found]}


@router.get("/lineage/upstream")
def upstream(
    principal: Reader,
    uri: Annotated[str, Query(description="models:/name@alias, runs:/id, dataset:name@v...")],
    depth: Annotated[int, Query(ge=1, le=50)] = 20,
) -> dict[str, Any]:
    """What ``uri`` was made from: for ``models:/delays@champion``, the run, training set and
    data versions behind the model serving now."""
    if uri.startswith(("models:/", "runs:/")):
        kind, name, _ = parse_uri(uri)
        if kind == "models":
            scoping.check_model(principal, str(name))
        else:
            scoping.check_runs(principal, [str(name)])
    return lineage.upstream(uri, depth).to_dict()
