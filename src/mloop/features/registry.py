"""Versioned definitions in the metadata store.

A definition is stored as canonical JSON with its sha256. Applying an unchanged definition
changes nothing; a changed one becomes the next version of its name; the head table says
which version is in force. Kinds: ``entity``, ``feature_view``, ``on_demand_view``,
``feature_service``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select

from mloop.core.clock import now_ms
from mloop.core.hashing import sha256_text
from mloop.store.schema.features import FeatureDefinition, FeatureHead

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore

KINDS = ("entity", "feature_view", "on_demand_view", "feature_service")


@dataclass(frozen=True)
class Applied:
    """The outcome of applying one definition."""

    kind: str
    name: str
    version: int
    hash: str
    changed: bool  # True when this apply created the version or moved the head to it

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class StoredDefinition:
    kind: str
    name: str
    version: int
    hash: str
    definition: dict[str, Any]
    created_at: int
    created_by: str


def canonical(definition: dict[str, Any]) -> str:
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)


def put(
    conn: Connection,
    store: MetadataStore,
    kind: str,
    name: str,
    definition: dict[str, Any],
    actor: str,
) -> Applied:
    """Store ``definition`` (inside the caller's transaction) and make it the head."""
    text = canonical(definition)
    digest = sha256_text(kind, text)
    table = FeatureDefinition.__table__
    found = conn.execute(
        select(table.c.version).where(
            table.c.kind == kind, table.c.name == name, table.c.hash == digest
        )
    ).scalar()
    at = now_ms()
    created = found is None
    if found is None:
        latest = conn.execute(
            select(func.max(table.c.version)).where(table.c.kind == kind, table.c.name == name)
        ).scalar()
        found = (latest or 0) + 1
        conn.execute(
            insert(FeatureDefinition),
            {
                "kind": kind,
                "name": name,
                "version": found,
                "hash": digest,
                "definition": text,
                "created_at": at,
                "created_by": actor,
            },
        )
    head = conn.execute(
        select(FeatureHead.version).where(FeatureHead.kind == kind, FeatureHead.name == name)
    ).scalar()
    moved = head != found
    if moved:
        store.upsert(
            conn,
            FeatureHead.__table__,
            [{"kind": kind, "name": name, "version": found, "updated_at": at}],
            keys=["kind", "name"],
            update=["version", "updated_at"],
        )
    return Applied(kind, name, int(found), digest, created or moved)


def get(
    store: MetadataStore, kind: str, name: str, version: int | None = None
) -> StoredDefinition | None:
    """A stored definition (the head when ``version`` is None), or None."""
    table = FeatureDefinition.__table__
    with store.read() as conn:
        if version is None:
            version = conn.execute(
                select(FeatureHead.version).where(
                    FeatureHead.kind == kind, FeatureHead.name == name
                )
            ).scalar()
            if version is None:
                return None
        row = conn.execute(
            select(table).where(
                table.c.kind == kind, table.c.name == name, table.c.version == version
            )
        ).first()
    return None if row is None else _stored(row)


def heads(store: MetadataStore, kind: str | None = None) -> list[StoredDefinition]:
    """Every definition in force (optionally of one kind), sorted by kind and name."""
    table = FeatureDefinition.__table__
    query = select(table).join(
        FeatureHead.__table__,
        (FeatureHead.kind == table.c.kind)
        & (FeatureHead.name == table.c.name)
        & (FeatureHead.version == table.c.version),
    )
    if kind is not None:
        query = query.where(table.c.kind == kind)
    with store.read() as conn:
        rows = conn.execute(query.order_by(table.c.kind, table.c.name)).all()
    return [_stored(row) for row in rows]


def versions(store: MetadataStore, kind: str, name: str) -> list[StoredDefinition]:
    """Every version of one definition, oldest first."""
    table = FeatureDefinition.__table__
    with store.read() as conn:
        rows = conn.execute(
            select(table)
            .where(table.c.kind == kind, table.c.name == name)
            .order_by(table.c.version)
        ).all()
    return [_stored(row) for row in rows]


def _stored(row: Any) -> StoredDefinition:
    return StoredDefinition(
        row.kind,
        row.name,
        row.version,
        row.hash,
        json.loads(row.definition),
        row.created_at,
        row.created_by,
    )
