"""Pipelines vs Kedro: runner overhead on 100 trivial nodes, speed-up on 8 CPU-bound nodes.

    .venv/bin/python benchmarks/pipelines/bench_pipelines.py [--repeats 3] [--seconds 1.0]

Each measurement is a fresh process (start-up included in "wall"), in a temporary mloop
home; Kedro runs in its own environment (benchmarks/.venv-kedro) in the same run.
Writes benchmarks/results/pipelines.json and prints the rows of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from peer_env import peer_python, save  # noqa: E402

KEDRO = ["kedro>=1.0,<2"]


def measure(python: str | Path, script: Path, args: list[str]) -> dict[str, Any]:
    """Run one side in a fresh process; its figures plus the process's wall time.

    mloop runs in a project whose metadata store exists already (created, untimed, by a
    first process), as every command but a project's very first one does.
    """
    with tempfile.TemporaryDirectory(prefix="mloop-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
        env["MLOOP_HOME"] = str(Path(home) / ".mloop")
        if Path(script).name == "mloop_side.py":
            subprocess.run(
                [str(python), str(script), "prepare"],
                cwd=home,
                env=env,
                check=True,
                capture_output=True,
            )
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        completed = subprocess.run(
            [str(python), str(script), *args],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["wall_s"] = wall
    # CPU of the whole process (user + system): start-up and run, much less load-dependent
    figures["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    return figures


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--busy-nodes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    kedro = peer_python("kedro", KEDRO)
    mine = HERE / "mloop_side.py"
    peer = HERE / "peer_kedro.py"
    n = str(args.nodes)
    load = os.getloadavg()[0]

    trivial: dict[str, dict[str, float]] = {}
    cases = {
        "mloop bare (no tracking, no cache)": (sys.executable, mine, ["trivial", n, "bare"]),
        "mloop cache only (no tracking)": (sys.executable, mine, ["trivial", n, "cache"]),
        "mloop tracking only (child run per node, no cache)": (
            sys.executable,
            mine,
            ["trivial", n, "track"],
        ),
        "mloop default (child run per node + cache)": (
            sys.executable,
            mine,
            ["trivial", n, "default"],
        ),
        "mloop second run (every node cached)": (sys.executable, mine, ["trivial", n, "cached"]),
        "Kedro SequentialRunner (default logging)": (kedro, peer, ["trivial", n]),
        "Kedro SequentialRunner (logging off)": (kedro, peer, ["trivial", n, "quiet"]),
    }
    for label, (python, script, argv) in cases.items():
        runs = [measure(python, script, argv) for _ in range(args.repeats)]
        trivial[label] = {
            "wall_s": median(runs, "wall_s"),
            "process_cpu_s": median(runs, "process_cpu_s"),
            "import_s": median(runs, "import_s"),
            "run_s": median(runs, "run_s"),
            "per_node_ms": median(runs, "run_s") / args.nodes * 1000,
            "cpu_per_node_ms": median(runs, "cpu_s") / args.nodes * 1000,
        }
        print(
            f"{label:48} wall {trivial[label]['wall_s']:6.2f} s  run {trivial[label]['run_s']:6.3f} s  "
            f"{trivial[label]['per_node_ms']:7.2f} ms/node  cpu {trivial[label]['cpu_per_node_ms']:6.2f} ms/node",
            flush=True,
        )

    busy: dict[str, dict[str, float]] = {}
    b, s = str(args.busy_nodes), str(args.seconds)
    busy_cases = {
        "mloop sequential": (sys.executable, mine, ["busy", b, s, "sequential"]),
        "mloop parallel (2 processes)": (sys.executable, mine, ["busy", b, s, "parallel"]),
        "mloop Ray (2 CPUs, started before)": (sys.executable, mine, ["busy", b, s, "ray"]),
        "Kedro sequential": (kedro, peer, ["busy", b, s, "sequential"]),
        "Kedro ParallelRunner (2 processes)": (kedro, peer, ["busy", b, s, "parallel"]),
    }
    for label, (python, script, argv) in busy_cases.items():
        figures = measure(python, script, argv)
        busy[label] = {
            "run_s": figures["run_s"],
            **({"ray_start_s": figures["ray_start_s"]} if "ray_start_s" in figures else {}),
        }
        print(f"{label:48} run {figures['run_s']:6.2f} s", flush=True)
    for label in ("mloop parallel (2 processes)", "mloop Ray (2 CPUs, started before)"):
        busy[label]["vs_sequential"] = busy[label]["run_s"] / busy["mloop sequential"]["run_s"]
    busy["Kedro ParallelRunner (2 processes)"]["vs_sequential"] = (
        busy["Kedro ParallelRunner (2 processes)"]["run_s"] / busy["Kedro sequential"]["run_s"]
    )
    result = {
        "nodes": args.nodes,
        "busy_nodes": args.busy_nodes,
        "busy_seconds": args.seconds,
        "repeats": args.repeats,
        "load_average_at_start": load,
        "load_average_at_end": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "trivial": trivial,
        "busy": busy,
    }
    path = save("pipelines", result)
    print(f"\nwrote {path}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
