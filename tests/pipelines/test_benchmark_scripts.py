"""The benchmark's mloop side runs on a tiny size (the peer is not installed in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "pipelines" / "mloop_side.py"


def _side(*args: str) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def test_the_trivial_and_busy_benchmarks_run_and_report_their_times() -> None:
    cached = _side("trivial", "5", "cached")  # fills the cache, then runs again from it
    assert cached["run_s"] > 0 and cached["import_s"] > 0
    busy = _side("busy", "2", "0.01", "sequential")
    assert busy["run_s"] > 0
