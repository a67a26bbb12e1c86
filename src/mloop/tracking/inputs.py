"""The inputs a run read (``log_input``): their name, digest and context, and filters on them.

An input is a lineage edge ``<data> --input_of--> run``; its properties carry the
``name``, ``digest`` and ``context`` that ``datasets.name|digest|context`` filters
compare, as MLflow's dataset inputs do. Edges recorded before those properties existed
get a name and digest derived from the node id.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from sqlalchemy import Connection, select

from mloop.core.errors import InvalidInput
from mloop.core.hashing import sha256_bytes
from mloop.store.lineage import Node
from mloop.store.schema.lineage import LineageEdge
from mloop.tracking.filter import Comparison


def as_lineage_node(value: Any) -> Node:
    """The lineage node of what ``log_input`` was given (a DataFrame by content hash)."""
    if isinstance(value, Node):
        return value
    if hasattr(value, "lineage_node"):
        node = value.lineage_node()
        if isinstance(node, Node):
            return node
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None  # type: ignore[assignment]
    if pd is not None and isinstance(value, pd.DataFrame):
        recorded = value.attrs.get("training_set")  # a frame returned by get_training_set
        if recorded is not None and hasattr(recorded, "lineage_node"):
            return as_lineage_node(recorded)
        digest = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
        columns = ",".join(map(str, value.columns))
        return Node("external", f"dataframe:{sha256_bytes(digest + columns.encode())[:16]}")
    raise InvalidInput(
        f"log_input got {type(value).__name__}; pass a dataset version (mloop.data.register), "
        "a training set, a pandas DataFrame or a lineage Node."
    )


def describe(node: Node, dataset: Any, name: str | None, context: str | None) -> dict[str, str]:
    """The properties recorded with an input edge: name, digest, context (when known)."""
    fallback_name, fallback_digest = _from_node(node)
    if hasattr(dataset, "lineage_node"):  # dataset versions, training sets
        own_name = getattr(dataset, "name", None)
        digest = getattr(dataset, "sha256", None) or getattr(dataset, "entity_sha256", None)
    else:  # a DataFrame: its attributes would be its columns; attrs["name"] when set
        own_name = getattr(dataset, "attrs", {}).get("name")
        digest = None
    properties = {
        "name": str(name or own_name or fallback_name),
        "digest": str(digest or fallback_digest),
    }
    if context:
        properties["context"] = context
    return properties


def _from_node(node: Node) -> tuple[str, str]:
    """Name and digest read from a node id: ``flights@3``, ``dataframe:<hash>``."""
    if node.kind == "dataset_version" and "@" in node.id:
        return node.id.rsplit("@", 1)[0], ""
    if node.id.startswith("dataframe:"):
        return "dataframe", node.id.split(":", 1)[1]
    return node.id, ""


def _fields(kind: str, id_: str, properties: str | None) -> dict[str, str | None]:
    recorded = json.loads(properties) if properties else {}
    name, digest = _from_node(Node(kind, id_))
    return {
        "name": recorded.get("name") or name,
        "digest": recorded.get("digest") or digest or None,
        "context": recorded.get("context"),
    }


@cache
def _like(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE as a regular expression (``%`` any run of characters, ``_`` one)."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _matches(value: str | None, op: str, wanted: Any) -> bool:
    if value is None:  # like SQL: a missing context matches no comparison
        return False
    if op == "=":
        return bool(value == wanted)
    if op == "!=":
        return bool(value != wanted)
    if op in ("LIKE", "ILIKE"):
        return _like(str(wanted), op == "ILIKE").fullmatch(value) is not None
    if op == "IN":
        return value in wanted
    if op == "NOT IN":
        return value not in wanted
    raise AssertionError(op)


def runs_matching(conn: Connection, comparison: Comparison) -> set[str]:
    """Ids of the runs with at least one input whose field satisfies ``comparison``."""
    rows = conn.execute(
        select(
            LineageEdge.to_id, LineageEdge.from_kind, LineageEdge.from_id, LineageEdge.properties
        ).where(LineageEdge.relation == "input_of", LineageEdge.to_kind == "run")
    ).all()
    return {
        run_id
        for run_id, kind, id_, properties in rows
        if _matches(_fields(kind, id_, properties)[comparison.key], comparison.op, comparison.value)
    }
