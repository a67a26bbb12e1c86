"""The compiled-path micro-benchmark runs and reports a time per call for both batch sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_compiled_calls_benchmark_reports_both_batch_sizes() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/serving/bench_compiled_calls.py"), "--calls", "8"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) == {"answer_1_rows_us", "answer_32_rows_us"}
    assert all(value > 0 for value in figures.values())
