"""Kedro's half of the pipeline benchmark; runs in benchmarks/.venv-kedro.

    python peer_kedro.py trivial 100 [quiet]  # a chain of 100 trivial nodes, SequentialRunner
    python peer_kedro.py busy 8 1.0 parallel  # 8 independent CPU-bound nodes

Prints one JSON object on its last line: import, build and run seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent))

import work  # noqa: E402
from kedro.io import DataCatalog, MemoryDataset  # noqa: E402
from kedro.pipeline import Pipeline, node  # noqa: E402
from kedro.runner import ParallelRunner, SequentialRunner  # noqa: E402

IMPORTED = time.perf_counter()


def trivial(count: int, quiet: bool) -> dict:
    if quiet:  # Kedro logs every node at INFO through rich; measure it without that too
        import logging

        logging.getLogger("kedro").setLevel(logging.WARNING)
    nodes = [node(work.start, "params:n", "d0", name="n0")]
    nodes += [node(work.inc, f"d{i}", f"d{i + 1}", name=f"n{i + 1}") for i in range(count - 1)]
    pipeline = Pipeline(nodes)
    catalog = DataCatalog({"params:n": MemoryDataset(0)})
    built = time.perf_counter()
    cpu = time.process_time()
    outputs = SequentialRunner().run(pipeline, catalog)
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    value = outputs[f"d{count - 1}"]
    value = value.load() if hasattr(value, "load") else value
    assert value == count - 1, value
    return {"build_s": built - IMPORTED, "run_s": done - built, "cpu_s": cpu}


def busy(count: int, seconds: float, runner: str) -> dict:
    nodes = [node(work.busy, "params:seconds", f"out{i}", name=f"busy{i}") for i in range(count)]
    pipeline = Pipeline(nodes)
    if runner == "parallel":
        from kedro.io import SharedMemoryDataCatalog

        catalog = SharedMemoryDataCatalog({"params:seconds": MemoryDataset(seconds)})
        engine = ParallelRunner(max_workers=2)
    else:
        catalog = DataCatalog({"params:seconds": MemoryDataset(seconds)})
        engine = SequentialRunner()
    built = time.perf_counter()
    engine.run(pipeline, catalog)
    return {"build_s": built - IMPORTED, "run_s": time.perf_counter() - built}


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "trivial":
        figures = trivial(int(sys.argv[2]), "quiet" in sys.argv[3:])
    else:
        figures = busy(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    figures["import_s"] = IMPORTED - T0
    import kedro

    figures["version"] = kedro.__version__
    print(json.dumps(figures))
