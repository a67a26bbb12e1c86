"""Pipeline: nodes in dependency order, composed with ``+``, reused under a namespace.

>>> training = Pipeline([node(split, "flights", ["train", "test"]), node(fit, "train", "model")])
>>> full = ingest + training
>>> [n.name for n in full.nodes]            # topological order
>>> evaluation = pipeline(eval_pipe, namespace="eval", inputs={"model": "model"})

A pipeline is checked when built: two nodes writing one dataset, two nodes with one
name and cycles are refused with an error that names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mloop.core import display
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.pipelines.node import ALL_PARAMS, PARAMS_PREFIX, Node, is_param
from mloop.pipelines.render import to_svg

__all__ = ["Pipeline", "pipeline"]


class Pipeline:
    """An immutable set of nodes, ordered so that every node comes after its inputs."""

    def __init__(self, nodes: Iterable[Node | Pipeline], *, tags: Iterable[str] | None = None):
        flat: list[Node] = []
        for item in nodes:
            if isinstance(item, Pipeline):
                flat.extend(item.nodes)
            elif isinstance(item, Node):
                flat.append(item)
            else:
                raise InvalidInput(
                    f"Pipeline got {type(item).__name__} ({item!r}); give nodes made with "
                    "node(func, inputs, outputs) or other pipelines."
                )
        if tags:
            extra = frozenset(tags)
            flat = [_with_tags(n, extra) for n in flat]
        unique: dict[str, Node] = {}
        for item in flat:
            known = unique.get(item.name)
            if known is not None and known != item:
                raise InvalidInput(
                    f"two nodes are named {item.name!r} ({known} and {item}); give one of them "
                    "another name with node(..., name=) or reuse the pipeline under a namespace."
                )
            unique[item.name] = item
        self._by_name = unique
        self._producer = _producers(unique.values())
        self._layers = _layers(list(unique.values()), self._producer)
        self.nodes: tuple[Node, ...] = tuple(n for layer in self._layers for n in layer)

    # -- structure -----------------------------------------------------------------------

    @property
    def layers(self) -> list[list[Node]]:
        """Groups of nodes that only depend on earlier groups (they may run at once)."""
        return [list(layer) for layer in self._layers]

    def node(self, name: str) -> Node:
        found = self._by_name.get(name)
        if found is None:
            raise NotFound(
                f"node {name!r} is not in this pipeline."
                + did_you_mean(name, self._by_name)
                + f" Its nodes: {', '.join(self._by_name) or '(none)'}."
            )
        return found

    def producer(self, dataset: str) -> Node | None:
        """The node that writes ``dataset`` (None for a free input)."""
        return self._producer.get(dataset)

    def datasets(self) -> set[str]:
        return {d for n in self.nodes for d in (*n.inputs, *n.outputs)}

    def inputs(self) -> set[str]:
        """Datasets read but written by no node (they come from the catalog), params included."""
        return {i for n in self.nodes for i in n.inputs if i not in self._producer}

    def outputs(self) -> set[str]:
        """Datasets written but read by no node of the pipeline."""
        read = {i for n in self.nodes for i in n.inputs}
        return {o for n in self.nodes for o in n.outputs if o not in read}

    def parents(self, item: Node) -> list[Node]:
        return [p for p in (self._producer.get(i) for i in item.inputs) if p is not None]

    def children(self, item: Node) -> list[Node]:
        outputs = set(item.outputs)
        return [n for n in self.nodes if outputs.intersection(n.inputs)]

    # -- slices (partial runs) -----------------------------------------------------------

    def only_nodes(self, *names: str) -> Pipeline:
        return Pipeline([self.node(name) for name in names])

    def from_nodes(self, *names: str) -> Pipeline:
        """These nodes and everything downstream of them."""
        return Pipeline(self._closure([self.node(n) for n in names], self.children))

    def to_nodes(self, *names: str) -> Pipeline:
        """These nodes and everything upstream of them."""
        return Pipeline(self._closure([self.node(n) for n in names], self.parents))

    def only_tags(self, *tags: str) -> Pipeline:
        return Pipeline([n for n in self.nodes if n.tags.intersection(tags)])

    def _closure(self, start: list[Node], step: Any) -> list[Node]:
        seen: dict[str, Node] = {}
        todo = list(start)
        while todo:
            item = todo.pop()
            if item.name not in seen:
                seen[item.name] = item
                todo.extend(step(item))
        return list(seen.values())

    # -- composition ---------------------------------------------------------------------

    def __add__(self, other: Pipeline) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return Pipeline([*self.nodes, *other.nodes])

    def __radd__(self, other: Any) -> Pipeline:
        if other == 0:  # sum([p1, p2])
            return self
        return NotImplemented

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and set(self.nodes) == set(other.nodes)

    def __hash__(self) -> int:
        return hash(frozenset(self.nodes))

    def __repr__(self) -> str:
        return f"Pipeline({len(self.nodes)} nodes: {', '.join(n.name for n in self.nodes)})"

    def describe(self) -> str:
        """One line per node, in run order."""
        return "\n".join(str(n) for n in self.nodes)

    def _repr_html_(self) -> str:
        """The DAG drawn as inline SVG and a table of its nodes, for notebooks."""
        rows = [
            (n.name, ", ".join(n.inputs), ", ".join(n.outputs), n.func_name) for n in self.nodes
        ]
        return display.block(
            f"Pipeline of {len(self.nodes)} nodes",
            f'<div style="overflow-x:auto">{to_svg(self)}</div>',
            display.table(("node", "inputs", "outputs", "function"), rows, limit=50),
        )


def _with_tags(item: Node, tags: frozenset[str]) -> Node:
    from dataclasses import replace

    return replace(item, tags=item.tags | tags)


def _producers(nodes: Iterable[Node]) -> dict[str, Node]:
    producer: dict[str, Node] = {}
    for item in nodes:
        for output in item.outputs:
            other = producer.get(output)
            if other is not None:
                raise InvalidInput(
                    f"nodes {other.name!r} and {item.name!r} both write {output!r}; a dataset "
                    "has one producer. Rename one output."
                )
            producer[output] = item
    return producer


def _layers(nodes: list[Node], producer: Mapping[str, Node]) -> list[list[Node]]:
    """Kahn's algorithm by layers; nodes keep their given order inside a layer."""
    deps = {n.name: {p.name for i in n.inputs if (p := producer.get(i)) is not None} for n in nodes}
    for item in nodes:
        if item.name in deps[item.name]:
            raise InvalidInput(f"node {item.name!r} reads its own output; that is a cycle.")
    index = {n.name: i for i, n in enumerate(nodes)}
    waiting = {n.name: len(deps[n.name]) for n in nodes}
    readers: dict[str, list[str]] = {n.name: [] for n in nodes}
    for name, parents in deps.items():
        for parent in parents:
            readers[parent].append(name)
    layer = [n for n in nodes if waiting[n.name] == 0]
    layers: list[list[Node]] = []
    placed = 0
    while layer:
        layers.append(layer)
        placed += len(layer)
        following: list[str] = []
        for item in layer:
            for reader in readers[item.name]:
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    following.append(reader)
        layer = [nodes[index[name]] for name in sorted(following, key=index.__getitem__)]
    if placed < len(nodes):
        left = {n.name: deps[n.name] for n in nodes if waiting[n.name] > 0}
        cycle = _find_cycle(left)
        raise InvalidInput(
            f"the pipeline has a cycle: {' -> '.join(cycle)}; a node cannot depend on its "
            "own outputs. Break the cycle by renaming one dataset."
        )
    return layers


def _find_cycle(deps: Mapping[str, set[str]]) -> list[str]:
    start = next(iter(deps))
    path = [start]
    seen = {start: 0}
    current = start
    while True:
        current = next(d for d in sorted(deps[current]) if d in deps)
        if current in seen:
            return [*path[seen[current] :], current]
        seen[current] = len(path)
        path.append(current)


def pipeline(
    pipe: Pipeline | Iterable[Node],
    *,
    namespace: str | None = None,
    inputs: str | Iterable[str] | Mapping[str, str] | None = None,
    outputs: str | Iterable[str] | Mapping[str, str] | None = None,
    parameters: str | Iterable[str] | Mapping[str, str] | None = None,
    tags: Iterable[str] | None = None,
) -> Pipeline:
    """Reuse a pipeline: prefix its datasets and params with ``namespace`` and rename some.

    Every dataset ``d`` becomes ``namespace.d`` and ``params:p`` becomes
    ``params:namespace.p``, except the names given in ``inputs``, ``outputs`` and
    ``parameters`` (a name keeps it; a dict maps the inner name to the outer one).

    Example:
        >>> evaluation = pipeline(eval_pipe, namespace="eval", inputs={"model": "champion"})

    Raises:
        InvalidInput: a mapped name is not a free input (``inputs``), an output
            (``outputs``) or a parameter (``parameters``) of the pipeline.
    """
    base = pipe if isinstance(pipe, Pipeline) else Pipeline(pipe)
    maps = {
        "inputs": _mapping(inputs),
        "outputs": _mapping(outputs),
        "parameters": {_as_param(k): _as_param(v) for k, v in _mapping(parameters).items()},
    }
    allowed = {
        "inputs": {i for i in base.inputs() if not is_param(i)},
        "outputs": base.datasets() - base.inputs(),
        "parameters": {i for i in base.inputs() if is_param(i)},
    }
    for kind, mapping in maps.items():
        for inner in mapping:
            if inner not in allowed[kind]:
                raise InvalidInput(
                    f"pipeline(..., {kind}=...): {inner!r} is not one of its {kind}."
                    + did_you_mean(inner, allowed[kind])
                    + f" Its {kind}: {', '.join(sorted(allowed[kind])) or '(none)'}."
                )
    fixed = {**maps["inputs"], **maps["outputs"], **maps["parameters"]}

    def rename(name: str) -> str:
        if name in fixed:
            return fixed[name]
        if not namespace or name == ALL_PARAMS:
            return name
        if name.startswith(PARAMS_PREFIX):
            return f"{PARAMS_PREFIX}{namespace}.{name[len(PARAMS_PREFIX) :]}"
        return f"{namespace}.{name}"

    return Pipeline([n.renamed(rename, namespace) for n in base.nodes], tags=tags)


def _mapping(spec: str | Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    if spec is None:
        return {}
    if isinstance(spec, str):
        return {spec: spec}
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    return {str(s): str(s) for s in spec}


def _as_param(name: str) -> str:
    return name if is_param(name) else PARAMS_PREFIX + name
