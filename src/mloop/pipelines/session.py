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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mloop.core.errors import MloopError
from mloop.pipelines import cache as node_cache
from mloop.pipelines.catalog import DataCatalog, load_catalog
from mloop.pipelines.execute import NodeResult
from mloop.pipelines.node import Node
from mloop.pipelines.params import load_params
from mloop.pipelines.pipeline import Pipeline
from mloop.pipelines.project import find_pipeline
from mloop.pipelines.run_state import RunState, cache_entry
from mloop.pipelines.runners import Runner, get_runner
from mloop.store import get_store
from mloop.store.lineage import add_edges
from mloop.tracking import active_run, log_metrics, set_experiment, start_run

__all__ = ["NodeFailed", "NodeStatus", "RunResult", "run"]

RAN, CACHED, FAILED, SKIPPED = "ran", "cached", "failed", "skipped"
STARTED = "started"  # only in progress events: the node was handed to the runner


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
    progress: Callable[[NodeStatus], None] | None = None,
) -> RunResult:
    """Run a pipeline (an object, or a name of the project's registry; the default when None).

    ``catalog`` entries are added on top of the project's ``conf/<env>/catalog.yml``;
    ``params`` override the project's parameters (dotted keys allowed). ``progress`` is
    called in this thread as each node starts (status ``started``) and ends (``ran``,
    ``cached``, ``failed``, ``skipped``), e.g. to print a line per node.

    Example:
        >>> result = run("training", runner="ray", params={"model.max_iter": 50})

    Raises:
        NotFound: an unknown pipeline, node or parameter, or an input nobody provides.
        NodeFailed: a node raised (the message says how to resume from it).
    """
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
    state = RunState(
        full, selected, merged, load_params(env=env, overrides=params), name, cache, track
    )
    state.validate()
    engine = get_runner(runner, max_workers)
    options = {
        "env": env,
        "runner": engine.name,
        "from_nodes": from_nodes,
        "to_nodes": to_nodes,
        "only": only,
    }
    return _execute(state, engine, options, experiment, progress or _silent)


def _silent(status: NodeStatus) -> None:
    """No progress output (the default of :func:`run`)."""


def _execute(
    state: RunState,
    engine: Runner,
    options: dict[str, Any],
    experiment: str | None,
    progress: Callable[[NodeStatus], None],
) -> RunResult:
    import contextlib

    started = time.perf_counter()
    statuses = _Statuses(progress)
    parent: Any = contextlib.nullcontext()
    if state.track:
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
            nodes=dict(statuses),
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


class _Statuses(dict[str, NodeStatus]):
    """The nodes' statuses in a run; setting one reports it to the progress callback."""

    def __init__(self, progress: Callable[[NodeStatus], None]) -> None:
        super().__init__()
        self.progress = progress

    def __setitem__(self, name: str, status: NodeStatus) -> None:
        super().__setitem__(name, status)
        self.progress(status)


def _loop(
    state: RunState,
    engine: Runner,
    statuses: _Statuses,
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
            task = state.task(item, run_id, experiment_id)
            statuses.progress(NodeStatus(name, STARTED, cache_key=state.keys.get(name)))
            running[engine.submit(task)] = item
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


def _try_cache(state: RunState, item: Node, statuses: dict[str, NodeStatus]) -> bool:
    key = state.key(item)
    hit = cache_entry(state, key)
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
    state: RunState,
    item: Node,
    result: NodeResult,
    statuses: dict[str, NodeStatus],
    parent: str | None,
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


def _write_records(state: RunState) -> None:
    node_cache.record(state.cache_rows)
    state.cache_rows.clear()
    if state.edges:
        add_edges(get_store(), state.edges)
        state.edges.clear()


def _free_outputs(state: RunState, statuses: dict[str, NodeStatus]) -> dict[str, Any]:
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
