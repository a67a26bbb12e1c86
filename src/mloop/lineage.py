"""Ask the lineage graph: what something was made from, and what was made from it.

    >>> import mloop.lineage
    >>> trained = mloop.lineage.upstream("models:/delays@champion")
    >>> trained.nodes("dataset_version")      # what data trained the model serving now
    [Node(kind='dataset_version', id='flights@3')]
    >>> mloop.lineage.downstream("datasets:/flights@3").nodes("deployment")

A thing is named by a model URI (``models:/name@alias``, ``models:/name/3``,
``runs:/<run_id>/...``), a dataset URI (``datasets:/name@version``) or a lineage node
``kind:id`` (``run:<run_id>``, ``deployment:delays``, ``training_set:<id>``...). The walk
reads the edge table every part of mloop writes (:mod:`mloop.store.lineage`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.registry import resolve_uri
from mloop.store import get_store
from mloop.store import lineage as graph
from mloop.store.lineage import KINDS, Edge, Node

__all__ = ["Edge", "Lineage", "Node", "downstream", "node_of", "upstream"]

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"
DEFAULT_DEPTH = 20
_DATASET_URI = re.compile(r"^datasets:/(?P<name>[^@/]+)@(?P<version>\d+)$")
_RUN_URI = re.compile(r"^runs:/(?P<run_id>[0-9a-f]{32})(?:/.*)?$")


def node_of(uri: str | Node) -> Node:
    """The lineage node a URI names.

    Raises:
        InvalidInput: the URI has none of the accepted forms.
        NotFound: a ``models:/`` URI names no registered version or alias.
    """
    if isinstance(uri, Node):
        return uri
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidInput(f"lineage needs a URI; got {uri!r}. {_FORMS}")
    uri = uri.strip()
    if uri.startswith("models:/"):
        _, version = resolve_uri(uri)
        assert version is not None
        return Node("model_version", version.key)
    match = _RUN_URI.match(uri)
    if match:
        return Node("run", match["run_id"])
    match = _DATASET_URI.match(uri)
    if match:
        return Node("dataset_version", f"{match['name']}@{match['version']}")
    kind, sep, id_ = uri.partition(":")
    if sep and kind in KINDS and id_:
        return Node(kind, id_)
    raise InvalidInput(f"lineage URI {uri!r} is not valid. {_FORMS}")


_FORMS = (
    "Use models:/<name>@<alias>, models:/<name>/<version>, runs:/<run_id>, "
    "datasets:/<name>@<version>, or <kind>:<id> with a kind among " + ", ".join(KINDS) + "."
)


@dataclass(frozen=True)
class Lineage:
    """The edges reached from ``root`` walking ``direction``, nearest first."""

    root: Node
    direction: str  # "upstream": what root was made from; "downstream": what was made from it
    edges: tuple[Edge, ...]

    def nodes(self, kind: str | None = None) -> list[Node]:
        """The nodes reached (not the root), nearest first, each once; only ``kind`` if given."""
        seen: dict[Node, None] = {}
        for edge in self.edges:
            node = edge.source if self.direction == UPSTREAM else edge.target
            if node != self.root and (kind is None or node.kind == kind):
                seen.setdefault(node)
        return list(seen)

    def _next(self) -> dict[Node, list[tuple[str, Node]]]:
        """For each node, the (relation, node) one step further in the walk's direction."""
        steps: dict[Node, list[tuple[str, Node]]] = {}
        for edge in self.edges:
            here, there = (
                (edge.target, edge.source)
                if self.direction == UPSTREAM
                else (edge.source, edge.target)
            )
            pair = (edge.relation, there)
            if pair not in steps.setdefault(here, []):
                steps[here].append(pair)
        return steps

    def tree(self) -> dict[str, Any]:
        """The walk as nested ``{"node", "relation", "children"}``; a node met again is
        shown once more with ``"repeated": True`` and no children."""
        steps = self._next()
        expanded: set[Node] = set()

        def build(node: Node, relation: str | None) -> dict[str, Any]:
            entry: dict[str, Any] = {"node": str(node), "kind": node.kind, "id": node.id}
            if relation is not None:
                entry["relation"] = relation
            if node in expanded:
                entry["repeated"] = True
                return entry
            expanded.add(node)
            entry["children"] = [build(child, rel) for rel, child in steps.get(node, [])]
            return entry

        return build(self.root, None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the root, the direction, the nodes, the edges and the tree."""
        return {
            "root": str(self.root),
            "direction": self.direction,
            "nodes": [str(node) for node in self.nodes()],
            "edges": [
                {
                    "from": str(edge.source),
                    "relation": edge.relation,
                    "to": str(edge.target),
                    "depth": edge.depth,
                    "created_at": edge.created_at,
                    "properties": edge.properties,
                }
                for edge in self.edges
            ],
            "tree": self.tree(),
        }


def _check_depth(depth: int) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise InvalidInput(f"lineage depth {depth!r} must be a whole number of steps, 1 or more.")
    return depth


def upstream(uri: str | Node, depth: int = DEFAULT_DEPTH) -> Lineage:
    """What ``uri`` was made from, up to ``depth`` steps back (runs, training sets, data).

    >>> mloop.lineage.upstream("models:/delays@champion").nodes("dataset_version")

    Raises:
        InvalidInput: the URI has none of the accepted forms, or ``depth`` is not 1 or more.
        NotFound: a ``models:/`` URI names no registered version or alias.
    """
    root = node_of(uri)
    edges = graph.upstream(get_store(), root, max_depth=_check_depth(depth))
    return Lineage(root, UPSTREAM, tuple(edges))


def downstream(uri: str | Node, depth: int = DEFAULT_DEPTH) -> Lineage:
    """What was made from ``uri``, up to ``depth`` steps on (runs, models, deployments...).

    Raises:
        InvalidInput: the URI has none of the accepted forms, or ``depth`` is not 1 or more.
        NotFound: a ``models:/`` URI names no registered version or alias.
    """
    root = node_of(uri)
    edges = graph.downstream(get_store(), root, max_depth=_check_depth(depth))
    return Lineage(root, DOWNSTREAM, tuple(edges))
