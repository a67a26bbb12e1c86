"""The data benchmarks run end to end at a tiny size, without peers, so they cannot rot.

Speed is not asserted (benchmarks/data measures it); each script must run, agree with
its reference counts (bench_checks asserts that itself) and print its figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("bench_checks.py", "mloop validate + store the result"),
        ("bench_profile.py", "mloop merge of two profiles"),
        ("bench_anomaly.py", "records/s"),
    ],
)
def test_benchmark_runs_at_a_tiny_size(script: str, expected: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(FOLDER / script),
            "--rows",
            "3000",
            "--repeat",
            "1",
            "--no-peers",
            "--no-save",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout
    assert "written to" not in done.stdout
