"""The audit log: every alias move, promotion, override and policy decision, with its reason."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from mloop.core.clock import now_ms
from mloop.store.schema.audit import AuditEntry

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the audit log."""

    id: int
    at: int
    actor: str
    action: str
    object_kind: str
    object_id: str
    from_value: str | None
    to_value: str | None
    reason: str
    details: dict[str, Any] | None


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    object_kind: str,
    object_id: str,
    from_value: Any = None,
    to_value: Any = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Append an entry inside the caller's transaction, so it commits with the change it describes."""
    conn.execute(
        insert(AuditEntry),
        {
            "at": now_ms(),
            "actor": actor,
            "action": action,
            "object_kind": object_kind,
            "object_id": str(object_id),
            "from_value": None if from_value is None else str(from_value),
            "to_value": None if to_value is None else str(to_value),
            "reason": reason or "",
            "details": json.dumps(details, default=str) if details else None,
        },
    )


def entries(
    store: MetadataStore,
    object_kind: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """The newest entries first, optionally for one object or one action."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if object_kind:
        query = query.where(AuditEntry.object_kind == object_kind)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    if action:
        query = query.where(AuditEntry.action == action)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [
        AuditRecord(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            object_kind=row.object_kind,
            object_id=row.object_id,
            from_value=row.from_value,
            to_value=row.to_value,
            reason=row.reason,
            details=json.loads(row.details) if row.details else None,
        )
        for row in rows
    ]
