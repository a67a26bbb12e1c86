"""mloop's half of the pipeline benchmark (same pipelines as peer_kedro.py).

    python mloop_side.py trivial 100 default   # tracking + cache (what `mloop run` does)
    python mloop_side.py trivial 100 bare      # tracking and cache off: the runner alone
    python mloop_side.py trivial 100 track     # child runs, no cache
    python mloop_side.py trivial 100 cache     # cache, no tracking
    python mloop_side.py trivial 100 cached    # a second run: every node from the cache
    python mloop_side.py busy 8 1.0 parallel   # 8 independent CPU-bound nodes

Prints one JSON object on its last line: import, build and run seconds, and what the run did
(node statuses, the last node's output).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent))

import work  # noqa: E402

from mloop.pipelines import Pipeline, node, run  # noqa: E402

IMPORTED = time.perf_counter()


def trivial(count: int, mode: str) -> dict:
    nodes = [node(work.start, "params:n", "d0", name="n0")]
    nodes += [node(work.inc, f"d{i}", f"d{i + 1}", name=f"n{i + 1}") for i in range(count - 1)]
    pipeline = Pipeline(nodes)
    built = time.perf_counter()
    options = {
        "track": mode in ("default", "cached", "track"),
        "cache": mode in ("default", "cached", "cache"),
    }
    # one-time costs of a process (store connection, tracker, experiment) are not per node
    run(Pipeline([node(work.start, "params:n", "warm_up")]), params={"n": -1}, **options)
    if mode == "cached":
        run(pipeline, params={"n": 0}, **options)  # fill the cache, not measured
    built = time.perf_counter()
    cpu = time.process_time()
    result = run(pipeline, params={"n": 0}, **options)
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    assert result.outputs[f"d{count - 1}"] == count - 1, result.outputs
    expected = "cached" if mode == "cached" else "ran"
    assert all(s.status == expected for s in result.nodes.values())
    return {
        "build_s": built - IMPORTED,
        "run_s": done - built,
        "cpu_s": cpu,
        **_outcome(result, f"d{count - 1}"),
    }


def _outcome(result: Any, output: str) -> dict:
    """What the measured run did (so a caller can check it): node statuses, the last output."""
    return {
        "statuses": dict(Counter(s.status for s in result.nodes.values())),
        "output": result.outputs.get(output),
    }


def busy(count: int, seconds: float, runner: str) -> dict:
    pipeline = Pipeline(
        [node(work.busy, "params:seconds", f"out{i}", name=f"busy{i}") for i in range(count)]
    )
    started = time.perf_counter()
    if runner == "ray":  # start Ray first and report it apart: a cluster is already up
        from mloop.pipelines import RayRunner

        engine = RayRunner(max_workers=2, num_cpus=2)
        engine.start()
        ray_start = time.perf_counter() - started
        started = time.perf_counter()
        result = run(pipeline, params={"seconds": seconds}, runner=engine, track=False, cache=False)
        return {
            "build_s": 0.0,
            "run_s": time.perf_counter() - started,
            "ray_start_s": ray_start,
            **_outcome(result, f"out{count - 1}"),
        }
    result = run(
        pipeline,
        params={"seconds": seconds},
        runner=runner,
        track=False,
        cache=False,
        max_workers=2,
    )
    return {
        "build_s": 0.0,
        "run_s": time.perf_counter() - started,
        **_outcome(result, f"out{count - 1}"),
    }


def prepare() -> dict:
    """Create the project's metadata store (a project's first command does it once)."""
    from mloop.store import get_artifacts, get_store

    get_store()
    get_artifacts()
    return {}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "prepare":
        figures = prepare()
    elif kind == "trivial":
        figures = trivial(int(sys.argv[2]), sys.argv[3])
    else:
        figures = busy(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    figures["import_s"] = IMPORTED - T0
    print(json.dumps(figures))
