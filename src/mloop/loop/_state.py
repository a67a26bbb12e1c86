"""What a policy remembers between steps: when it last stepped and the last schedule tick."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from mloop.core.clock import now_ms
from mloop.store import get_store
from mloop.store.schema.monitoring import LoopPolicyState


def load(policy: str) -> dict[str, Any]:
    with get_store().read() as conn:
        row = conn.execute(select(LoopPolicyState).where(LoopPolicyState.policy == policy)).first()
    if row is None:
        return {}
    return {"last_step_at": row.last_step_at, "last_tick_at": row.last_tick_at}


def save(policy: str, model: str, last_step_at: int, last_tick_at: int | None) -> None:
    store = get_store()
    row = {
        "policy": policy,
        "model_name": model,
        "last_step_at": last_step_at,
        "last_tick_at": last_tick_at,
        "updated_at": now_ms(),
    }

    def work(conn: Connection) -> None:
        store.upsert(
            conn,
            LoopPolicyState.__table__,
            [row],
            keys=["policy"],
            update=["model_name", "last_step_at", "last_tick_at", "updated_at"],
        )

    store.transaction(work)
