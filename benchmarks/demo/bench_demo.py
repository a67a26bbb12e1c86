"""Time ``mloop demo`` as a user runs it: a first run in a fresh folder, then a second run.

    .venv/bin/python benchmarks/demo/bench_demo.py [--quick] [--keep]

Each run is its own ``mloop demo`` process; the script reports wall-clock seconds, the
CPU seconds of the process and its children (user + system, from ``getrusage``) and the
1-minute load average before and after, since the machine is shared. There is no peer:
no other single tool runs this loop; the target is issue 9's budget of 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MLOOP = Path(sys.executable).with_name("mloop")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peer_env import save  # noqa: E402


def one_run(folder: Path, extra: list[str]) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(
        [str(MLOOP), "demo", "--dir", str(folder), *extra], capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"mloop demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    summary = json.loads((folder / "reports" / "summary.json").read_text())
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "load_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "steps_s": summary["steps"],
        "flights": summary["replay"]["flights"],
        "retrainings": len(summary["decisions"]),
        "promoted": sum(d["status"] == "promoted" for d in summary["decisions"]),
        "cached_nodes": sorted(n for n, s in summary["pipeline"]["nodes"].items() if s == "cached"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="time mloop demo --quick")
    parser.add_argument("--keep", action="store_true", help="keep the demo folder")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results")
    options = parser.parse_args()
    extra = ["--quick"] if options.quick else []
    folder = Path(tempfile.mkdtemp(prefix="mloop-demo-bench-"))
    try:
        results = {"first run": one_run(folder, extra), "second run": one_run(folder, extra)}
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(results, indent=2))
    if not options.no_save:
        results["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print("written to", save("demo_quick" if options.quick else "demo", results))


if __name__ == "__main__":
    main()
