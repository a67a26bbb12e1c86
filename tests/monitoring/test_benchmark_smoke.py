"""The drift benchmark runs end to end at a tiny size, without peers, so it cannot rot.

Speed is not asserted (benchmarks/monitoring measures it); the run must finish, agree
with the hand-written statistics and report every figure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "monitoring" / "bench_drift.py"


def test_the_drift_benchmark_runs_and_agrees_with_the_hand_written_statistics(
    tmp_path: Path,
) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--rows",
            "3000",
            "--repeat",
            "1",
            "--no-peers",
            "--no-save",
            "--data",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    out = completed.stdout
    for line in (
        "mloop drift (raw rows)",
        "by hand (numpy/scipy)",
        "mloop vs stored profile",
        "profile vs profile",
    ):
        assert line in out
    assert "written to" not in out
    gaps = dict(
        part.strip().split(" ")
        for part in out.split("largest |mloop - by hand|")[1].splitlines()[0].split(",")
    )
    assert float(gaps["wasserstein"]) < 1e-9  # the same definition, computed two ways
