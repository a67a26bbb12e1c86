"""The stream benchmarks run end to end at tiny sizes (without peers), so they cannot rot.

Speed is not asserted here; each script checks its own results (the window benchmark
asserts every method equals the offline definition) and must report its figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mloop
from tests.streams.conftest import require

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks" / "streams"


def _run(script: str, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(Path(mloop.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, str(FOLDER / script), "--smoke"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_the_window_benchmark_agrees_with_the_offline_definition(tmp_path: Path) -> None:
    out = _run("bench_windows.py", tmp_path)
    assert "'same_results_as_offline': True" in out
    assert "mloop_batches_10000_per_second" in out


def test_the_consume_benchmark_reads_every_message_of_each_broker(tmp_path: Path) -> None:
    for scheme in ("amqp", "nats", "mqtt", "redis"):
        require(scheme)
    out = _run("bench_consume.py", tmp_path)
    for scheme in ("redis", "nats", "amqp"):
        assert f"raw consume {scheme}" in out and "'received': 300" in out
        assert f"full path   {scheme}" in out
    assert out.count("'scored': 200") == 3


def test_the_memory_benchmark_samples_a_runner_at_its_maximum_rate(tmp_path: Path) -> None:
    require("redis")
    out = _run("bench_rss.py", tmp_path)
    assert "'growth_after_warmup':" in out and "'dead_letters': {}" in out
