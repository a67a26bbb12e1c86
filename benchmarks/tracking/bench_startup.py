"""Start-up time: ``import mloop``, ``mloop --help``, ``import mloop.tracking`` and a first run.

``import mloop`` is lazy (it loads nothing until a name is used), so it alone flatters:
the rows ``import mloop.tracking`` (what the first tracking call loads: SQLAlchemy, the
store) and ``first logged run`` (a fresh process that starts a run, logs one metric and
ends it, in a new store each time, schema creation included; and in a store that
exists) show what a user's script pays before its first value is stored. MLflow's
``import mlflow`` and a first ``mlflow.start_run`` + ``log_metric`` sit beside them.

    .venv/bin/python benchmarks/tracking/bench_startup.py            # 21 runs (MLflow: 5)
    .venv/bin/python benchmarks/tracking/bench_startup.py --runs 5 --no-peer

Each command runs in a fresh process; the commands take turns (round-robin) so that a
burst of load on a shared machine hits them alike. Reported: median and fastest wall
time, and the median CPU time (user + system) of the child, which load on other cores
disturbs less. Targets: ``import mloop`` under 0.3 s, ``mloop --help`` under 0.5 s.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tracking_bench import machine, median, mlflow_python, print_table, save  # noqa: E402

TARGETS = {"import mloop": 0.3, "mloop --help": 0.5}

# a whole first script: start a run, log one value, end it (every value committed)
_FIRST_RUN = (
    "import os, sys, tempfile\n"
    "home = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix='mloop-first-')\n"
    "os.environ['MLOOP_HOME'] = home\n"
    "os.chdir(home)\n"
    "import mloop\n"
    "with mloop.start_run():\n"
    "    mloop.log_metric('x', 1.0)\n"
)
_FIRST_MLFLOW_RUN = (
    "import os, tempfile\n"
    "home = tempfile.mkdtemp(prefix='mlflow-first-')\n"
    "os.chdir(home)\n"
    "import mlflow\n"
    "mlflow.set_tracking_uri(f'sqlite:///{home}/mlflow.db')\n"
    "with mlflow.start_run():\n"
    "    mlflow.log_metric('x', 1.0)\n"
)


def _commands(no_peer: bool, existing_home: str) -> dict[str, list[str]]:
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import mloop": [python, "-c", "import mloop"],
        "mloop --help": [str(Path(python).parent / "mloop"), "--help"],
        "import mloop.tracking": [python, "-c", "import mloop.tracking"],
        "first logged run (new store)": [python, "-c", _FIRST_RUN],
        "first logged run (existing store)": [python, "-c", _FIRST_RUN, existing_home],
    }
    if not no_peer:
        peer = mlflow_python()
        commands["import mlflow"] = [str(peer), "-c", "import mlflow"]
        commands["mlflow --help"] = [str(peer.parent / "mlflow"), "--help"]
        commands["first mlflow run (new store)"] = [str(peer), "-c", _FIRST_MLFLOW_RUN]
    return commands


def _time_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {completed.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bench(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mloop-bench-home-") as home:
        return _bench(args, home)


def _bench(args: argparse.Namespace, existing_home: str) -> dict[str, Any]:
    commands = _commands(args.no_peer, existing_home)
    for command in commands.values():  # warm the file cache and the .pyc files (and the store)
        _time_once(command)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(args.runs):
        for name, command in commands.items():
            if "mlflow" in name and round_ >= args.peer_runs:
                continue  # MLflow takes seconds to start: fewer runs of it
            wall, cpu = _time_once(command)
            walls[name].append(wall)
            cpus[name].append(cpu)
    results = []
    for name in commands:
        target = TARGETS.get(name)
        wall = median(walls[name])
        results.append(
            {
                "command": name,
                "runs": len(walls[name]),
                "median_seconds": wall,
                "min_seconds": min(walls[name]),
                "median_cpu_seconds": median(cpus[name]),
                "target_seconds": target,
                "meets_target": None if target is None else wall < target,
            }
        )
    figures = {"benchmark": "start-up", "machine": machine(), "results": results}
    print_table(
        [
            [
                r["command"],
                f"{r['median_seconds']:.3f}",
                f"{r['min_seconds']:.3f}",
                f"{r['median_cpu_seconds']:.3f}",
                "" if r["target_seconds"] is None else f"< {r['target_seconds']}",
                "" if r["meets_target"] is None else ("yes" if r["meets_target"] else "NO"),
            ]
            for r in results
        ],
        ["command", "median s", "min s", "median CPU s", "target", "met"],
    )
    if not args.no_save:
        print("saved", save("tracking_startup", figures))
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--peer-runs", type=int, default=5, help="runs of each MLflow command")
    parser.add_argument("--no-peer", action="store_true", help="skip MLflow (smoke test)")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results")
    bench(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
