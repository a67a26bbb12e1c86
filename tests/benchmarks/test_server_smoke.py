"""The server benchmark runs end to end at a tiny size without MLflow, so it cannot rot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "server" / "bench_server.py"


@pytest.mark.slow
def test_the_server_benchmark_logs_creates_and_finds_every_run() -> None:
    spec = importlib.util.spec_from_file_location("bench_server", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_server"] = module
    spec.loader.exec_module(module)
    args = module.argparse.Namespace(params=2, metrics=2, steps=3, runs=10, peer="none")
    results = module.bench(args)["mloop"]
    assert results["log"]["values"] == 2 + 2 * 3
    assert results["create"]["runs"] == 10
    # every other run is "rf"; auc = (i * 7919 % 1000) / 1000 > 0.2 for these
    expected = sum(1 for i in range(1, 10, 2) if (i * 7919 % 1000) / 1000 > 0.2)
    assert results["search"]["all_rows"] == results["search"]["first_page_rows"] == expected
    assert results["server_processes"] == 1
