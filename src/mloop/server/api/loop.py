"""``/api/v1/loop/decisions`` (retraining decisions; approve and reject) and
``/api/v1/alerts`` (monitoring alerts), scoped by the workspace of each model."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mloop.core.principal import Principal
from mloop.loop.decisions import approve as approve_decision
from mloop.loop.decisions import decisions as find_decisions
from mloop.loop.decisions import get_decision as load_decision
from mloop.loop.decisions import reject as reject_decision
from mloop.monitoring import list_alerts
from mloop.server.api import scoping
from mloop.server.api.registry import version_json
from mloop.server.auth import admin, owners, read
from mloop.store import get_store

router = APIRouter(prefix="/api/v1", tags=["loop and monitoring"])
Reader = Annotated[Principal, Depends(read)]
Admin = Annotated[Principal, Depends(admin)]


class Verdict(BaseModel):
    reason: str = Field("", max_length=2000)


def _visible(principal: Principal, model: str) -> bool:
    return owners.workspace_of(get_store(), scoping.MODEL, model) == principal.workspace


@router.get("/loop/decisions")
def list_decisions(
    principal: Reader,
    model: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Retraining decisions of the workspace's models, oldest first."""
    found = find_decisions(model=model, status=status, limit=limit)
    return {"decisions": [d.to_dict() for d in found if _visible(principal, d.model)]}


@router.get("/loop/decisions/{decision_id}")
def get_decision(decision_id: str, principal: Reader) -> dict[str, Any]:
    decision = load_decision(decision_id)
    scoping.check_model(principal, decision.model)
    return decision.to_dict()


@router.post("/loop/decisions/{decision_id}/approve")
def approve(decision_id: str, body: Verdict, principal: Admin) -> dict[str, Any]:
    """Promote the challenger of a decision awaiting approval (workspace admins; audited)."""
    scoping.check_model(principal, load_decision(decision_id).model)
    return version_json(approve_decision(decision_id, reason=body.reason))


@router.post("/loop/decisions/{decision_id}/reject")
def reject(decision_id: str, body: Verdict, principal: Admin) -> dict[str, Any]:
    """Turn down the challenger of a decision awaiting approval (a reason is required)."""
    scoping.check_model(principal, load_decision(decision_id).model)
    return reject_decision(decision_id, reason=body.reason).to_dict()


@router.get("/alerts")
def alerts(
    principal: Reader,
    model: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query(description="firing or resolved")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Monitoring alerts of the workspace's models, newest first."""
    found = list_alerts(model=model, status=status, limit=limit)
    return {"alerts": [dataclasses.asdict(a) for a in found if _visible(principal, a.model_name)]}
