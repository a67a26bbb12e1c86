"""Retraining decisions: every pass of a policy, stored, audited and approvable.

Statuses: ``triggered`` → ``trained`` → ``promoted`` | ``rejected`` |
``awaiting_approval`` (→ ``promoted`` by :func:`approve`, ``rejected`` by :func:`reject`);
``failed`` when training or evaluation raised, ``blocked`` when nothing could be compared.

>>> [d.status for d in decisions("delays")]
['promoted', 'rejected', 'awaiting_approval']
>>> approve(decisions("delays", status="awaiting_approval")[0].id, reason="checked the card")
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import Conflict, InvalidInput, NotFound
from mloop.core.principal import current_actor
from mloop.registry import get_version, promote
from mloop.store import audit, get_store
from mloop.store.schema.monitoring import LoopDecision

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mloop.registry import ModelVersion

__all__ = ["STATUSES", "Decision", "approve", "decisions", "get_decision", "reject"]

STATUSES = (
    "triggered",
    "trained",
    "awaiting_approval",
    "promoted",
    "rejected",
    "failed",
    "blocked",
)
"""The states of a retraining decision, from ``triggered`` to an outcome."""


@dataclass
class Decision:
    """One pass of a retraining policy and everything it found."""

    id: str
    policy: str
    model: str
    alias: str
    trigger: str
    reason: str
    status: str
    champion_version: int | None = None
    candidate_version: int | None = None
    run_id: str | None = None
    window_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    decided_by: str | None = None
    decided_at: int | None = None
    created_at: int = 0
    updated_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _row(decision: Decision) -> dict[str, Any]:
    return {
        "id": decision.id,
        "policy": decision.policy,
        "model_name": decision.model,
        "alias": decision.alias,
        "trigger": decision.trigger,
        "reason": decision.reason,
        "status": decision.status,
        "champion_version": decision.champion_version,
        "candidate_version": decision.candidate_version,
        "run_id": decision.run_id,
        "window_id": decision.window_id,
        "details": json.dumps(decision.details, default=str),
        "decided_by": decision.decided_by,
        "decided_at": decision.decided_at,
        "created_at": decision.created_at,
        "updated_at": decision.updated_at,
    }


def _entity(row: Any) -> Decision:
    return Decision(
        id=row.id,
        policy=row.policy,
        model=row.model_name,
        alias=row.alias,
        trigger=row.trigger,
        reason=row.reason,
        status=row.status,
        champion_version=row.champion_version,
        candidate_version=row.candidate_version,
        run_id=row.run_id,
        window_id=row.window_id,
        details=json.loads(row.details) if row.details else {},
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def save(
    decision: Decision,
    action: str,
    actor: str,
    conn_work: Any = None,
    audit_details: dict[str, Any] | None = None,
) -> Decision:
    """Insert or update ``decision`` with an audit entry ``action``, in one transaction."""
    from sqlalchemy import insert, select, update

    store = get_store()
    decision.updated_at = now_ms()
    decision.created_at = decision.created_at or decision.updated_at
    row = _row(decision)

    def work(conn: Connection) -> None:
        exists = conn.execute(select(LoopDecision.id).where(LoopDecision.id == decision.id)).first()
        if exists is None:
            conn.execute(insert(LoopDecision), row)
        else:
            conn.execute(update(LoopDecision).where(LoopDecision.id == decision.id).values(**row))
        audit.record(
            conn,
            actor=actor,
            action=action,
            object_kind="loop_decision",
            object_id=decision.id,
            to_value=decision.status,
            reason=decision.reason
            if action == "loop.trigger"
            else decision.details.get("note", ""),
            details={
                "policy": decision.policy,
                "model": decision.model,
                "champion": decision.champion_version,
                "candidate": decision.candidate_version,
                **(audit_details or {}),
            },
        )
        if conn_work is not None:
            conn_work(conn)

    store.transaction(work)
    return decision


def get_decision(decision_id: str) -> Decision:
    """A decision by id (``mloop loop status`` lists them).

    Raises:
        NotFound: no decision has this id.
    """
    from sqlalchemy import select

    with get_store().read() as conn:
        row = conn.execute(select(LoopDecision).where(LoopDecision.id == decision_id)).first()
    if row is None:
        raise NotFound(
            f"retraining decision {decision_id!r} does not exist; `mloop loop status` lists them."
        )
    return _entity(row)


def decisions(
    model: str | None = None,
    policy: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Decision]:
    """Decisions, oldest first (the newest ``limit``), optionally filtered."""
    from sqlalchemy import select

    if status is not None and status not in STATUSES:
        raise InvalidInput(f"decision status {status!r} is not one of {', '.join(STATUSES)}.")
    query = (
        select(LoopDecision).order_by(LoopDecision.created_at.desc(), LoopDecision.id).limit(limit)
    )
    if model is not None:
        query = query.where(LoopDecision.model_name == model)
    if policy is not None:
        query = query.where(LoopDecision.policy == policy)
    if status is not None:
        query = query.where(LoopDecision.status == status)
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    return [_entity(row) for row in reversed(rows)]


def _pending(decision_id: str) -> Decision:
    decision = get_decision(decision_id)
    if decision.status != "awaiting_approval":
        raise Conflict(
            f"decision {decision_id} is {decision.status}, not awaiting approval; only a "
            "decision whose challenger passed the gate can be approved or rejected."
        )
    return decision


def approve(decision_id: str, reason: str = "", actor: str | None = None) -> ModelVersion:
    """Promote the challenger of a decision awaiting approval (the server then hot-swaps).

    Raises:
        NotFound: no such decision.
        Conflict: the decision is not awaiting approval, or the alias moved since.
    """
    decision = _pending(decision_id)
    actor = actor or current_actor()
    current = get_version(decision.model, decision.alias).version
    if decision.champion_version is not None and current != decision.champion_version:
        raise Conflict(
            f"{decision.model}@{decision.alias} moved from version {decision.champion_version} "
            f"to {current} since decision {decision_id} was made; reject it and let the policy "
            "compare against the new champion."
        )
    assert decision.candidate_version is not None
    note = reason or "approved"
    promoted = promote(
        decision.model,
        decision.candidate_version,
        alias=decision.alias,
        reason=f"retraining decision {decision.id} approved by {actor or 'unknown'}: {note}",
    )
    decision.status = "promoted"
    decision.decided_by = actor
    decision.decided_at = now_ms()
    decision.details["note"] = note
    save(decision, "loop.approve", actor)
    return promoted


def reject(decision_id: str, reason: str, actor: str | None = None) -> Decision:
    """Turn down the challenger of a decision awaiting approval (a reason is required).

    Raises:
        InvalidInput: ``reason`` is empty.
        NotFound: no such decision.
        Conflict: the decision is not awaiting approval.
    """

    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("rejecting a challenger needs a reason (kept in the audit log).")
    decision = _pending(decision_id)
    actor = actor or current_actor()
    decision.status = "rejected"
    decision.decided_by = actor
    decision.decided_at = now_ms()
    decision.details["note"] = reason
    return save(decision, "loop.reject", actor)
