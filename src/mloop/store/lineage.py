"""Lineage: one edge table for every part of mloop, walked with recursive queries.

Kinds name what a node is (``dataset_version``, ``feature_view_version``,
``training_set``, ``run``, ``model_version``, ``deployment``, ``monitoring_window``);
ids are strings (``"flights@3"``, a run id, ``"delay_model/2"``). "What data trained the
model serving now?" is :func:`upstream` of the deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.store.schema.lineage import LineageEdge

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore

KINDS = (
    "dataset_version",
    "quality_result",
    "feature_view_version",
    "training_set",
    "pipeline_run",
    "run",
    "model_version",
    "deployment",
    "prediction_log",
    "monitoring_window",
    "artifact",
    "external",
)


@dataclass(frozen=True)
class Node:
    """A thing in the lineage graph."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Edge:
    """``source`` --relation--> ``target``, at ``depth`` steps from the start of a walk."""

    source: Node
    relation: str
    target: Node
    created_at: int
    depth: int = 1
    properties: dict[str, Any] | None = None


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"lineage kind {kind!r} is unknown; use one of {', '.join(KINDS)}.")


def add_edge(
    store: MetadataStore,
    source: Node,
    relation: str,
    target: Node,
    properties: dict[str, Any] | None = None,
) -> None:
    """Record ``source --relation--> target`` (idempotent: the same edge is stored once)."""
    add_edges(store, [(source, relation, target, properties)])


def add_edges(
    store: MetadataStore,
    edges: list[tuple[Node, str, Node, dict[str, Any] | None]],
) -> None:
    """Record several edges in one transaction."""
    rows = []
    at = now_ms()
    for source, relation, target, properties in edges:
        _check_kind(source.kind)
        _check_kind(target.kind)
        rows.append(
            {
                "from_kind": source.kind,
                "from_id": str(source.id),
                "relation": relation,
                "to_kind": target.kind,
                "to_id": str(target.id),
                "created_at": at,
                "properties": json.dumps(properties) if properties else None,
            }
        )
    if rows:
        table = LineageEdge.__table__
        store.transaction(lambda conn: store.insert_ignore(conn, table, rows))


_WALK = """
WITH RECURSIVE walk(from_kind, from_id, relation, to_kind, to_id, created_at, properties, depth) AS (
    SELECT from_kind, from_id, relation, to_kind, to_id, created_at, properties, 1
    FROM lineage_edges WHERE {start}
    UNION
    SELECT e.from_kind, e.from_id, e.relation, e.to_kind, e.to_id, e.created_at, e.properties, w.depth + 1
    FROM lineage_edges e JOIN walk w ON {step}
    WHERE w.depth < :max_depth
)
SELECT from_kind, from_id, relation, to_kind, to_id, created_at, properties, MIN(depth) AS depth
FROM walk
GROUP BY from_kind, from_id, relation, to_kind, to_id, created_at, properties
ORDER BY depth, created_at
"""


def upstream(store: MetadataStore, node: Node, max_depth: int = 20) -> list[Edge]:
    """Every edge leading into ``node``, transitively (what it was made from)."""
    sql = _WALK.format(
        start="to_kind = :kind AND to_id = :id",
        step="e.to_kind = w.from_kind AND e.to_id = w.from_id",
    )
    return _walk(store, sql, node, max_depth)


def downstream(store: MetadataStore, node: Node, max_depth: int = 20) -> list[Edge]:
    """Every edge leading out of ``node``, transitively (what was made from it)."""
    sql = _WALK.format(
        start="from_kind = :kind AND from_id = :id",
        step="e.from_kind = w.to_kind AND e.from_id = w.to_id",
    )
    return _walk(store, sql, node, max_depth)


def _walk(store: MetadataStore, sql: str, node: Node, max_depth: int) -> list[Edge]:
    _check_kind(node.kind)
    params = {"kind": node.kind, "id": str(node.id), "max_depth": max_depth}
    with store.read() as conn:
        rows = conn.execute(text(sql), params).all()
    return [
        Edge(
            source=Node(row.from_kind, row.from_id),
            relation=row.relation,
            target=Node(row.to_kind, row.to_id),
            created_at=row.created_at,
            depth=row.depth,
            properties=json.loads(row.properties) if row.properties else None,
        )
        for row in rows
    ]
