"""Running one node: in the driver (sequential) or in a worker process (parallel, Ray).

The driver sends a :class:`Task` (the node, its input values or where to load them, the
catalog entries its outputs go to, the parent run) and gets a :class:`NodeResult` back.
The node runs inside its own child run, so ``mloop.log_metric`` in a node's function is
recorded on that node's run, on every runner.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from mloop.core.config import SETTINGS, get_settings
from mloop.core.errors import InvalidInput
from mloop.pipelines.cache import CachedOutput, hash_value, load_value, store_value
from mloop.pipelines.catalog_entries import CatalogEntry
from mloop.pipelines.node import Node
from mloop.tracking import active_run, flush, log_metric, log_param, set_tag, start_run

__all__ = ["NodeResult", "Task", "execute", "execute_payload", "pack"]

# how an input reaches the node: its value, a catalog entry to load, or a cached artifact
VALUE, ENTRY, CACHE = "value", "entry", "cache"

# mloop's own folder (not the root package's __file__: a domain package does not import it)
_MLOOP_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Task:
    node: Node
    inputs: list[tuple[str, str, Any]]  # (name, VALUE | ENTRY | CACHE, payload)
    saves: dict[str, CatalogEntry]  # persistent outputs written by the worker
    returns: set[str]  # outputs whose values the driver needs back
    pipeline: str
    parent_run_id: str | None
    experiment_id: str | None
    track: bool
    cache: bool
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class NodeResult:
    name: str
    run_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    cached: dict[str, CachedOutput] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None


def _load(name: str, kind: str, payload: Any) -> Any:
    if kind == VALUE:
        return payload
    if kind == CACHE:
        return load_value(payload)
    entry: CatalogEntry = payload
    return entry.load()


def execute(task: Task) -> NodeResult:
    """Load the inputs, call the function, save and hash the outputs, inside a child run."""
    node = task.node
    result = NodeResult(node.name)
    started = time.perf_counter()
    run_context: Any = contextlib.nullcontext()
    if task.track:
        # in the driver the fluent state already knows the parent's experiment: no lookup
        parent = active_run()
        in_driver = parent is not None and parent.info.run_id == task.parent_run_id
        run_context = start_run(
            run_name=node.name,
            nested=True,
            parent_run_id=task.parent_run_id,
            experiment_id=None if in_driver else task.experiment_id,
            log_system_info=False,
            # in the driver the node's run is ended with the next flush (at the latest when
            # the pipeline's run ends); a worker process commits before it answers
            synchronous=not in_driver,
            tags={
                "mloop.pipeline": task.pipeline,
                "mloop.pipeline.node": node.name,
                "mloop.pipeline.function": f"{getattr(node.func, '__module__', '')}.{node.func_name}",
            },
        )
    try:
        with run_context as run:
            if run is not None:
                result.run_id = run.info.run_id
                _log_params(task.params)
            values = [_load(name, kind, payload) for name, kind, payload in task.inputs]
            outputs = node.call(values)
            for name, entry in task.saves.items():
                entry.save(outputs[name])
            for name, value in outputs.items():
                if task.cache:
                    stored = store_value(value, f"output {name!r} of node {node.name!r}")
                    result.cached[name] = stored
                    result.hashes[name] = stored.sha256
                elif task.track:  # hashes name the outputs in lineage and run tags
                    result.hashes[name] = hash_value(value)
                if name in task.returns:
                    result.values[name] = value
            result.seconds = time.perf_counter() - started
            if run is not None:
                _log_outputs(result)
    except Exception as exc:
        result.seconds = time.perf_counter() - started
        result.error = f"{type(exc).__name__}: {exc}"
        result.error_type = type(exc).__name__
        result.traceback = _user_traceback(exc)
    return result


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the node's own code on (mloop's frames around it left out)."""
    package = _MLOOP_PACKAGE
    error = traceback.TracebackException.from_exception(exc)
    frames = [f for f in error.stack if not f.filename.startswith(package)]
    if frames:
        error.stack = traceback.StackSummary.from_list(frames)
    return "".join(error.format())


def _log_params(params: dict[str, Any]) -> None:
    for key, value in _flatten(params).items():
        log_param(key[:250], str(value)[:6000])


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _log_outputs(result: NodeResult) -> None:
    for name, digest in result.hashes.items():
        set_tag(f"mloop.output.{name}.sha256"[:250], digest)
    log_metric("node_seconds", result.seconds)


# -- worker processes ---------------------------------------------------------------------


def pack(task: Task) -> bytes:
    """The task as bytes (cloudpickle when installed, so lambdas and local functions travel)."""
    try:
        import cloudpickle as serializer
    except ImportError:  # pragma: no cover - Ray installs it
        import pickle as serializer
    try:
        return bytes(serializer.dumps(task))
    except Exception as exc:
        raise InvalidInput(
            f"node {task.node.name!r}: its function or inputs cannot be sent to a worker "
            f"process ({type(exc).__name__}: {exc}). Pass picklable values, or use the "
            "sequential runner."
        ) from None


def worker_context() -> dict[str, Any]:
    """What a worker needs to see the driver's stores and code: env, folder, sys.path."""
    settings = get_settings()
    env = {s.env: str(getattr(settings, s.key)) for s in SETTINGS if hasattr(settings, s.key)}
    return {"env": env, "cwd": str(settings.root), "sys_path": list(sys.path)}


def execute_payload(payload: bytes, context: dict[str, Any]) -> NodeResult:
    """Worker entry point: adopt the driver's configuration, unpack the task, run it."""
    import pickle

    for path in reversed(context["sys_path"]):
        if path not in sys.path:
            sys.path.insert(0, path)
    os.environ.update(context["env"])
    if os.getcwd() != context["cwd"] and os.path.isdir(context["cwd"]):
        os.chdir(context["cwd"])
    try:
        task: Task = pickle.loads(payload)
    except Exception as exc:
        return NodeResult(
            name="?",
            error=f"the task could not be unpacked in the worker ({type(exc).__name__}: {exc}); "
            "define node functions at module level of an importable module",
            error_type=type(exc).__name__,
        )
    result = execute(task)
    if task.track:
        flush()
    return result
