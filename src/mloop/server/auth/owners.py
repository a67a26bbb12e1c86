"""Which workspace each object (experiment, registered model...) belongs to.

An object without a row belongs to ``default``: everything created before the server, or
embedded, stays visible to the members of the default workspace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from mloop.server.auth.accounts import DEFAULT_WORKSPACE
from mloop.store.schema.auth import AuthOwner

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore


def assign(store: MetadataStore, kind: str, object_id: str, workspace: str) -> None:
    """Record that ``object_id`` belongs to ``workspace`` (first owner wins)."""
    with store.write() as conn:
        taken = conn.execute(
            select(AuthOwner.workspace).where(
                AuthOwner.object_kind == kind, AuthOwner.object_id == str(object_id)
            )
        ).first()
        if taken is None:
            conn.execute(
                insert(AuthOwner),
                {"object_kind": kind, "object_id": str(object_id), "workspace": workspace},
            )


def workspace_of(store: MetadataStore, kind: str, object_id: str) -> str:
    with store.read() as conn:
        found = conn.execute(
            select(AuthOwner.workspace).where(
                AuthOwner.object_kind == kind, AuthOwner.object_id == str(object_id)
            )
        ).scalar()
    return found or DEFAULT_WORKSPACE


def owned_elsewhere(store: MetadataStore, kind: str, workspace: str) -> set[str]:
    """Ids of ``kind`` that belong to another workspace than ``workspace``."""
    with store.read() as conn:
        return set(
            conn.execute(
                select(AuthOwner.object_id).where(
                    AuthOwner.object_kind == kind, AuthOwner.workspace != workspace
                )
            ).scalars()
        )
