"""The benchmark's mloop side runs on a tiny size (the peer is not installed in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "pipelines" / "mloop_side.py"


def _side(*args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def test_the_trivial_and_busy_benchmarks_run_and_report_their_times() -> None:
    ran = _side("trivial", "3", "default")  # a fresh home: every node runs
    assert ran["statuses"] == {"ran": 3} and ran["output"] == 2  # a chain of +1 nodes from 0
    cached = _side("trivial", "5", "cached")  # fills the cache, then runs again from it
    assert cached["statuses"] == {"cached": 5}  # the measured run took every node from the cache
    assert cached["output"] == 4
    assert cached["run_s"] > 0 and cached["import_s"] > 0
    busy = _side("busy", "2", "0.01", "sequential")
    assert busy["statuses"] == {"ran": 2}
    assert busy["output"] > 0  # the CPU-bound work really ran
    assert busy["run_s"] >= 2 * 0.01  # two nodes of at least 0.01 s of CPU each, one at a time
