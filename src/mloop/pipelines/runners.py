"""Runners: where nodes execute — in this process, in a process pool, or on Ray.

Every runner takes :class:`~mloop.pipelines.execute.Task` objects and hands back
:class:`~mloop.pipelines.execute.NodeResult` objects; the scheduling of the graph, the
cache, tracking and lineage live in :mod:`mloop.pipelines.session`, so the three runners
give the same outputs (one contract test suite runs on all of them).
"""

from __future__ import annotations

import os
from typing import Any

from mloop.core.cluster import ensure_ray
from mloop.core.config import get_settings
from mloop.core.errors import InvalidInput, did_you_mean
from mloop.pipelines.execute import NodeResult, Task, execute, execute_payload, pack, worker_context

__all__ = ["ParallelRunner", "RayRunner", "Runner", "SequentialRunner", "get_runner"]


class Runner:
    """The runner protocol: ``submit`` tasks, ``wait`` for finished ones, ``close``."""

    name = "runner"
    max_workers = 1

    def start(self) -> None:
        """Prepare workers (called once per pipeline run)."""

    def submit(self, task: Task) -> Any:
        raise NotImplementedError

    def wait(self, handles: list[Any]) -> list[tuple[Any, NodeResult]]:
        """Block until at least one submitted task finishes; return the finished ones."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (called once per pipeline run, also after a failure)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_workers={self.max_workers})"


class SequentialRunner(Runner):
    """One node at a time, in this process (the default; no start-up cost)."""

    name = "sequential"

    def __init__(self) -> None:
        self._done: dict[int, NodeResult] = {}
        self._next = 0

    def submit(self, task: Task) -> Any:
        handle = self._next
        self._next += 1
        self._done[handle] = execute(task)
        return handle

    def wait(self, handles: list[Any]) -> list[tuple[Any, NodeResult]]:
        return [(h, self._done.pop(h)) for h in handles if h in self._done]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ParallelRunner(Runner):
    """Independent nodes at once in a pool of worker processes (spawned, so it is fork-safe).

    Functions and values travel pickled (cloudpickle for functions), so a node's inputs
    and outputs must be picklable.
    """

    name = "parallel"

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise InvalidInput(f"ParallelRunner(max_workers={max_workers}) must be 1 or more.")
        self.max_workers = max_workers or max(1, min(_cpus(), 8))
        self._pool: Any = None
        self._context: dict[str, Any] = {}

    def start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._context = worker_context()
        threads = max(1, _cpus() // self.max_workers)
        self._pool = ProcessPoolExecutor(
            max_workers=self.max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_limit_threads,
            initargs=(threads,),
        )

    def submit(self, task: Task) -> Any:
        return self._pool.submit(execute_payload, pack(task), self._context)

    def wait(self, handles: list[Any]) -> list[tuple[Any, NodeResult]]:
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(handles, return_when=FIRST_COMPLETED)
        return [(f, _result(f.result)) for f in done]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _limit_threads(threads: int) -> None:
    """Give each worker its share of the cores for OpenMP/BLAS (unless the user chose).

    Without it, every worker's numerical libraries start one thread per core, and a
    pool of N workers oversubscribes the machine N times (Ray does the same by default).
    """
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))


def _result(get: Any) -> NodeResult:
    try:
        result: NodeResult = get()
        return result
    except (
        Exception
    ) as exc:  # the worker died (killed, out of memory) or the result did not unpickle
        return NodeResult(
            name="?",
            error=f"the worker failed: {type(exc).__name__}: {exc}",
            error_type="WorkerError",
        )


class RayRunner(Runner):
    """Nodes as Ray tasks: a local Ray, or the cluster at ``address`` (setting ``ray_address``).

    Example:
        >>> run(training, runner=RayRunner(address="ray://head:10001"))
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        max_workers: int | None = None,
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.max_workers = max_workers or 0
        self._remote: Any = None
        self._context: dict[str, Any] = {}

    def start(self) -> None:
        ray = ensure_ray(num_cpus=self.num_cpus or _cpus(), address=self.address)
        if not self.max_workers:
            self.max_workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(execute_payload)
        self._context = worker_context()

    def submit(self, task: Task) -> Any:
        return self._remote.remote(pack(task), self._context)

    def wait(self, handles: list[Any]) -> list[tuple[Any, NodeResult]]:
        import ray

        done, _ = ray.wait(handles, num_returns=1)
        return [(ref, _result(lambda ref=ref: ray.get(ref))) for ref in done]


RUNNERS = {"sequential": SequentialRunner, "parallel": ParallelRunner, "ray": RayRunner}


def get_runner(runner: str | Runner | None = None, max_workers: int | None = None) -> Runner:
    """A runner by name (``sequential``, ``parallel``, ``ray``); the ``runner`` setting by default.

    Raises:
        InvalidInput: an unknown runner name (with the nearest one).
    """
    if isinstance(runner, Runner):
        return runner
    if runner is None:
        runner = get_settings().runner
    if runner not in RUNNERS:
        raise InvalidInput(
            f"runner {runner!r} is unknown."
            + did_you_mean(runner, RUNNERS)
            + f" Runners: {', '.join(RUNNERS)}."
        )
    if runner == "sequential":
        return SequentialRunner()
    if runner == "parallel":
        return ParallelRunner(max_workers)
    return RayRunner(max_workers=max_workers)
