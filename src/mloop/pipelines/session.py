"""Running a pipeline: plan the cache, schedule ready nodes on a runner, track and trace.

>>> result = run(training, catalog=catalog, runner="parallel")
>>> result.status, result.nodes["train"].status
('FINISHED', 'ran')

A run is a tracking run (tag ``mloop.pipeline``) with one child run per node. A node
whose code fingerprint, input hashes and parameters match a cached entry is skipped and
its outputs come from the cache. A failing node stops its dependents; the others go on,
the run ends FAILED and :class:`NodeFailed` says how to resume.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mloop.core.errors import MloopError, NotFound, did_you_mean
from mloop.pipelines import cache as node_cache
from mloop.pipelines.catalog import DataCatalog
from mloop.pipelines.datasets import CatalogEntry, MemoryDataset
from mloop.pipelines.execute import CACHE, ENTRY, VALUE, NodeResult, Task
from mloop.pipelines.fingerprint import code_fingerprint
from mloop.pipelines.node import ALL_PARAMS, PARAMS_PREFIX, Node
from mloop.pipelines.pipeline import Pipeline, is_param
from mloop.pipelines.runners import Runner, get_runner

__all__ = ["NodeFailed", "NodeStatus", "RunResult", "run"]

RAN, CACHED, FAILED, SKIPPED = "ran", "cached", "failed", "skipped"


@dataclass
class NodeStatus:
    """What happened to one node: ran, cached (skipped, outputs from the cache), failed, skipped."""

    name: str
    status: str
    run_id: str | None = None
    seconds: float = 0.0
    cache_key: str | None = None
    error: str | None = None


@dataclass
class RunResult:
    """The outcome of :func:`run`: status, per-node status and the pipeline's free outputs."""

    pipeline: str
    status: str
    run_id: str | None
    nodes: dict[str, NodeStatus]
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)
    seconds: float = 0.0
    resume_command: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for n in self.nodes.values() if n.status == status)


class NodeFailed(MloopError):
    """A node raised; the message names it, gives the error and the command that resumes."""

    http_status = 500

    def __init__(self, message: str, result: RunResult, node: str, traceback: str | None) -> None:
        super().__init__(message)
        self.result = result
        self.node = node
        self.traceback = traceback


class _Run:
    """The state of one pipeline run in the driver."""

    def __init__(
        self,
        full: Pipeline,
        selected: Pipeline,
        catalog: DataCatalog,
        params: Mapping[str, Any],
        name: str,
        use_cache: bool,
        track: bool,
    ) -> None:
        self.full = full
        self.selected = selected
        self.catalog = catalog
        self.params = params
        self.name = name
        self.use_cache = use_cache
        self.track = track
        self.in_run = {n.name for n in selected.nodes}
        self.hashes: dict[str, str] = {}
        self.values: dict[str, Any] = {}  # memory values produced or loaded in this run
        self.cached: dict[str, node_cache.CachedOutput] = {}
        self.keys: dict[str, str] = {}
        self.fingerprints: dict[int, str] = {}
        self.cache_rows: list[dict[str, Any]] = []
        self.known_entries: dict[str, dict[str, node_cache.CachedOutput]] | None = None
        self.edges: list[Any] = []
        self.readers = dict.fromkeys(selected.datasets(), 0)
        for item in selected.nodes:
            for dataset in item.inputs:
                self.readers[dataset] += 1
        self.free_outputs = selected.outputs()

    # -- values and hashes -----------------------------------------------------------------

    def param(self, name: str) -> Any:
        from mloop.pipelines.params import lookup

        return (
            dict(self.params)
            if name == ALL_PARAMS
            else lookup(self.params, name[len(PARAMS_PREFIX) :])
        )

    def entry(self, name: str) -> CatalogEntry | None:
        entry = self.catalog.get(name) if name in self.catalog else None
        if isinstance(entry, MemoryDataset) and not entry.exists():
            return None
        return entry

    def input_hash(self, name: str, reader: Node) -> str:
        """The content hash of a dataset, resolving it from params, catalog or cache."""
        known = self.hashes.get(name)
        if known is not None:
            return known
        if is_param(name):
            digest = node_cache.params_hash(self.param(name))
        else:
            producer = self.full.producer(name)
            entry = self.entry(name)
            if entry is not None and (producer is None or producer.name not in self.in_run):
                if isinstance(entry, MemoryDataset):
                    digest = node_cache.hash_value(entry.load())
                else:
                    found = entry.fingerprint()
                    if found is None:
                        self.values[name] = entry.load()
                        found = node_cache.hash_value(self.values[name])
                    digest = found
            elif producer is not None and producer.name not in self.in_run:
                digest = self._from_cache(name, producer, reader)
            else:
                raise self._missing(name, reader)
        self.hashes[name] = digest
        return digest

    def validate(self) -> None:
        """Check before running that every input has a source (params, catalog or a node)."""
        for item in self.selected.nodes:
            for name in item.inputs:
                if is_param(name):
                    self.param(name)
                    continue
                producer = self.full.producer(name)
                if producer is not None and producer.name in self.in_run:
                    continue
                entry = self.catalog.get(name) if name in self.catalog else None
                if entry is not None and entry.persistent and producer is None:
                    if not entry.exists():
                        entry.fingerprint()  # raises NotFound naming the missing file or dataset
                elif (entry is None or not entry.exists()) and producer is None:
                    raise self._missing(name, item)

    def _from_cache(self, name: str, producer: Node, reader: Node) -> str:
        key = self.key(producer)
        hit = state_lookup(self, key)
        if hit is None or name not in hit:
            raise NotFound(
                f"node {reader.name!r} reads {name!r}, written by node {producer.name!r}, which "
                "is not part of this partial run, and no stored output matches its current "
                f"code and inputs. Run node {producer.name!r} too (widen --from-nodes), or "
                f"store {name!r} in the catalog."
            )
        for output, stored in hit.items():
            self.cached[output] = stored
            self.hashes[output] = stored.sha256
        return hit[name].sha256

    def _missing(self, name: str, reader: Node) -> NotFound:
        known = (set(self.catalog) | self.full.datasets()) - {name}
        return NotFound(
            f"node {reader.name!r} reads {name!r}, but no node writes it and the catalog has no "
            f"entry for it."
            + did_you_mean(name, known)
            + " Add it to the catalog (conf/base/catalog.yml) or fix the node's inputs."
        )

    def key(self, item: Node) -> str:
        found = self.keys.get(item.name)
        if found is None:
            code = self.fingerprints.get(id(item.func))
            if code is None:
                code = self.fingerprints[id(item.func)] = code_fingerprint(item.func)
            inputs = [(i, self.input_hash(i, item)) for i in item.inputs]
            found = self.keys[item.name] = node_cache.cache_key(code, inputs, item.outputs)
        return found

    # -- tasks ---------------------------------------------------------------------------

    def task(self, item: Node, parent_run_id: str | None, experiment_id: str | None) -> Task:
        inputs: list[tuple[str, str, Any]] = []
        params: dict[str, Any] = {}
        for name in item.inputs:
            if is_param(name):
                value = self.param(name)
                params[name[len(PARAMS_PREFIX) :] if name != ALL_PARAMS else ALL_PARAMS] = value
                inputs.append((name, VALUE, value))
            elif name in self.values:
                inputs.append((name, VALUE, self.values[name]))
            elif name in self.cached:
                inputs.append((name, CACHE, self.cached[name].artifact))
            elif name not in self.catalog and self.full.producer(name) is not None:
                self.input_hash(name, item)  # an output of a node outside this partial run
                inputs.append((name, CACHE, self.cached[name].artifact))
            else:
                entry = self.catalog.get(name)
                inputs.append(
                    (name, VALUE, entry.load())
                    if isinstance(entry, MemoryDataset)
                    else (name, ENTRY, entry)
                )
        saves = {o: e for o in item.outputs if (e := self.entry_for_output(o)) is not None}
        returns = {o for o in item.outputs if self.readers.get(o, 0) > 0 or o in self.free_outputs}
        return Task(
            node=item,
            inputs=inputs,
            saves=saves,
            returns=returns,
            pipeline=self.name,
            parent_run_id=parent_run_id,
            experiment_id=experiment_id,
            track=self.track,
            cache=self.use_cache,
            params=params,
        )

    def entry_for_output(self, name: str) -> CatalogEntry | None:
        entry = self.catalog.get(name) if name in self.catalog else None
        return None if entry is None or not entry.persistent else entry

    def consumed(self, item: Node) -> None:
        """Release memory values whose last reader has finished."""
        for name in item.inputs:
            self.readers[name] -= 1
            if self.readers[name] == 0 and name not in self.free_outputs:
                self.values.pop(name, None)
                self.catalog.release(name)

    def lineage(self, item: Node, run_id: str | None, parent_run_id: str | None) -> None:
        if not self.track or run_id is None:
            return
        from mloop.store.lineage import Node as Vertex

        child = Vertex("run", run_id)
        if parent_run_id:
            self.edges.append(
                (Vertex("pipeline_run", parent_run_id), "contains", child, {"node": item.name})
            )
        ins = [v for i in item.inputs if not is_param(i) and (v := self.vertex(i)) is not None]
        outs = [v for o in item.outputs if (v := self.vertex(o)) is not None]
        for source in ins:
            self.edges.append((source, "input_of", child, {"node": item.name}))
        for target in outs:
            self.edges.append((child, "produced", target, {"node": item.name}))
            for source in ins:
                self.edges.append(
                    (source, "derived", target, {"node": item.name, "run_id": run_id})
                )

    def vertex(self, name: str) -> Any:
        from mloop.store.lineage import Node as Vertex

        entry = self.catalog.get(name) if name in self.catalog else None
        if entry is not None and entry.persistent:
            try:
                found = entry.lineage_node()
            except MloopError:
                found = None
            if found is not None:
                return found
        if name in self.cached:
            return Vertex("artifact", self.cached[name].artifact)
        digest = self.hashes.get(name)
        return Vertex("external", f"value:{name}@{digest[:16]}") if digest else None


def run(
    pipeline: Pipeline | str | None = None,
    *,
    catalog: DataCatalog | Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    runner: str | Runner | None = None,
    env: str | None = None,
    cache: bool = True,
    track: bool = True,
    from_nodes: Sequence[str] | None = None,
    to_nodes: Sequence[str] | None = None,
    only: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    name: str | None = None,
    experiment: str | None = None,
    max_workers: int | None = None,
) -> RunResult:
    """Run a pipeline (an object, or a name of the project's registry; the default when None).

    ``catalog`` entries are added on top of the project's ``conf/<env>/catalog.yml``;
    ``params`` override the project's parameters (dotted keys allowed).

    Example:
        >>> result = run("training", runner="ray", params={"model.max_iter": 50})

    Raises:
        NotFound: an unknown pipeline, node or parameter, or an input nobody provides.
        NodeFailed: a node raised (the message says how to resume from it).
    """
    from mloop.pipelines.catalog import load_catalog
    from mloop.pipelines.params import load_params
    from mloop.pipelines.project import find_pipeline

    if pipeline is None or isinstance(pipeline, str):
        name, full = find_pipeline(pipeline)
    else:
        full = pipeline
        name = name or "__default__"
    project_catalog = load_catalog(env=env)
    given = catalog if isinstance(catalog, DataCatalog) else DataCatalog(catalog or {})
    for entry_name in given:
        project_catalog.add(entry_name, given.get(entry_name))
    merged = project_catalog.shallow_copy()
    selected = full
    if from_nodes:
        selected = selected.from_nodes(*from_nodes)
    if to_nodes:
        selected = Pipeline([n for n in selected.nodes if n in set(full.to_nodes(*to_nodes).nodes)])
    if only:
        selected = Pipeline([n for n in selected.nodes if n in set(full.only_nodes(*only).nodes)])
    if tags:
        selected = selected.only_tags(*tags)
    state = _Run(full, selected, merged, load_params(env=env, overrides=params), name, cache, track)
    state.validate()
    engine = get_runner(runner, max_workers)
    options = {
        "env": env,
        "runner": engine.name,
        "from_nodes": from_nodes,
        "to_nodes": to_nodes,
        "only": only,
    }
    return _execute(state, engine, options, experiment)


def _execute(
    state: _Run, engine: Runner, options: dict[str, Any], experiment: str | None
) -> RunResult:
    import contextlib

    started = time.perf_counter()
    statuses: dict[str, NodeStatus] = {}
    parent: Any = contextlib.nullcontext()
    if state.track:
        from mloop.tracking import active_run, set_experiment, start_run

        if experiment:
            set_experiment(experiment)
        parent = start_run(
            run_name=f"pipeline:{state.name}",
            nested=active_run() is not None,
            log_system_info=True,
            tags={
                "mloop.pipeline": state.name,
                "mloop.pipeline.runner": engine.name,
                "mloop.pipeline.env": options["env"] or "local",
            },
        )
    failure: tuple[str, NodeResult] | None = None
    with parent as run:
        run_id = run.info.run_id if run is not None else None
        experiment_id = run.info.experiment_id if run is not None else None
        engine.start()
        try:
            failure = _loop(state, engine, statuses, run_id, experiment_id)
        finally:
            engine.close()
            _write_records(state)
        outputs = _free_outputs(state, statuses)
        if run is not None:
            from mloop.tracking import log_metrics

            log_metrics(
                {
                    "nodes_ran": sum(s.status == RAN for s in statuses.values()),
                    "nodes_cached": sum(s.status == CACHED for s in statuses.values()),
                    "nodes_failed": sum(s.status == FAILED for s in statuses.values()),
                    "pipeline_seconds": time.perf_counter() - started,
                }
            )
        result = RunResult(
            pipeline=state.name,
            status="FAILED" if failure else "FINISHED",
            run_id=run_id,
            nodes=statuses,
            outputs=outputs,
            seconds=time.perf_counter() - started,
        )
        if failure is not None:
            node_name, failed = failure
            result.resume_command = resume_command(state.name, node_name, options)
            raise NodeFailed(
                f"pipeline {state.name!r} failed at node {node_name!r}: {failed.error}\n"
                f"  {sum(s.status == SKIPPED for s in statuses.values())} dependent node(s) did not run.\n"
                f"  Resume from it with: {result.resume_command}",
                result,
                node_name,
                failed.traceback,
            )
    return result


def _loop(
    state: _Run,
    engine: Runner,
    statuses: dict[str, NodeStatus],
    run_id: str | None,
    experiment_id: str | None,
) -> tuple[str, NodeResult] | None:
    """Submit nodes as their parents finish (in pipeline order); skip the dependents of failures."""
    order = list(state.selected.nodes)
    by_name = {n.name: n for n in order}
    position = {n.name: i for i, n in enumerate(order)}
    children: dict[str, list[str]] = {n.name: [] for n in order}
    missing: dict[str, int] = {}
    for item in order:
        parents = {p.name for p in state.full.parents(item) if p.name in state.in_run}
        missing[item.name] = len(parents)
        for parent in parents:
            children[parent].append(item.name)
    ready = [(position[n], n) for n, count in missing.items() if count == 0]
    heapq.heapify(ready)
    running: dict[Any, Node] = {}
    broken: set[str] = set()
    looked_up: set[str] = set()  # cache misses, not looked up again while waiting for a worker
    first_failure: tuple[str, NodeResult] | None = None

    def settle(name: str, ok: bool) -> None:
        for child in children[name]:
            if child in broken:
                continue
            if ok:
                missing[child] -= 1
                if missing[child] == 0:
                    heapq.heappush(ready, (position[child], child))
            else:
                broken.add(child)
                statuses[child] = NodeStatus(child, SKIPPED)
                settle(child, False)

    while ready or running:
        while ready:
            _, name = ready[0]
            item = by_name[name]
            if state.use_cache and name not in looked_up and _try_cache(state, item, statuses):
                heapq.heappop(ready)
                state.consumed(item)
                settle(name, True)
                continue
            looked_up.add(name)
            if len(running) >= max(1, engine.max_workers):
                break
            heapq.heappop(ready)
            running[engine.submit(state.task(item, run_id, experiment_id))] = item
        if not running:
            continue
        for handle, result in engine.wait(list(running)):
            item = running.pop(handle)
            if result.error is not None:
                broken.add(item.name)
                statuses[item.name] = NodeStatus(
                    item.name,
                    FAILED,
                    result.run_id,
                    result.seconds,
                    state.keys.get(item.name),
                    result.error,
                )
                if first_failure is None:
                    first_failure = (item.name, result)
                settle(item.name, False)
                continue
            _finish(state, item, result, statuses, run_id)
            settle(item.name, True)
    return first_failure


def state_lookup(state: _Run, key: str) -> dict[str, node_cache.CachedOutput] | None:
    """A cache entry: from the pipeline's entries read once per run, else by key (shared nodes)."""
    if state.known_entries is None:
        state.known_entries = node_cache.entries_of(state.name)
    found = state.known_entries.get(key)
    return found if found is not None else node_cache.lookup([key]).get(key)


def _try_cache(state: _Run, item: Node, statuses: dict[str, NodeStatus]) -> bool:
    key = state.key(item)
    hit = state_lookup(state, key)
    if hit is None or set(hit) != set(item.outputs):
        return False
    for output, stored in hit.items():
        state.cached[output] = stored
        state.hashes[output] = stored.sha256
        entry = state.entry_for_output(output)
        if entry is not None and not entry.exists():
            entry.save(node_cache.load_value(stored.artifact))  # restore a deleted output
    statuses[item.name] = NodeStatus(item.name, CACHED, cache_key=key)
    return True


def _finish(
    state: _Run, item: Node, result: NodeResult, statuses: dict[str, NodeStatus], parent: str | None
) -> None:
    state.hashes.update(result.hashes)
    state.values.update(result.values)
    state.cached.update(result.cached)
    key = state.keys.get(item.name)
    if key is None and state.use_cache:
        key = state.key(item)
    if state.use_cache and key is not None and result.cached:
        state.cache_rows.append(
            {
                "key": key,
                "pipeline": state.name,
                "node": item.name,
                "outputs": result.cached,
                "run_id": result.run_id,
                "seconds": result.seconds,
            }
        )
    statuses[item.name] = NodeStatus(item.name, RAN, result.run_id, result.seconds, key)
    state.lineage(item, result.run_id, parent)
    state.consumed(item)


def _write_records(state: _Run) -> None:
    node_cache.record(state.cache_rows)
    state.cache_rows.clear()
    if state.edges:
        from mloop.store import get_store
        from mloop.store.lineage import add_edges

        add_edges(get_store(), state.edges)
        state.edges.clear()


def _free_outputs(state: _Run, statuses: dict[str, NodeStatus]) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for name in state.free_outputs:
        producer = state.full.producer(name)
        if producer is None or statuses.get(producer.name, NodeStatus("", SKIPPED)).status not in (
            RAN,
            CACHED,
        ):
            continue
        if name in state.values:
            outputs[name] = state.values[name]
        elif state.entry_for_output(name) is None and name in state.cached:
            outputs[name] = node_cache.load_value(state.cached[name].artifact)
    return outputs


def resume_command(pipeline: str, node: str, options: Mapping[str, Any]) -> str:
    """The CLI command that reruns a pipeline from ``node`` with the same options."""
    parts = ["mloop", "run", pipeline, "--from-nodes", node]
    if options.get("env"):
        parts += ["--env", str(options["env"])]
    if options.get("runner") and options["runner"] != "sequential":
        parts += ["--runner", str(options["runner"])]
    for flag in ("to_nodes", "only"):
        for value in options.get(flag) or ():
            parts += [f"--{flag.replace('_', '-')}", value]
    return " ".join(parts)
