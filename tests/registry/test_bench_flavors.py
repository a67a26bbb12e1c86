"""The flavor benchmark (serving and loading vs MLflow) runs end to end at a tiny size,
mloop's half only, so the script cannot rot."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "models" / "bench_flavors.py"


@pytest.mark.slow
def test_the_flavor_benchmark_serves_and_loads_each_model() -> None:
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("bench_flavors", FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.main(["--smoke"])
    for name in ("mlp", "onnx"):
        loading = figures[name]["loading"]["mloop"]
        assert 0 < loading["load_s"] < loading["process_s"], name
        if shutil.which("wrk"):
            served = figures[name]["mloop"]
            assert served["requests"] > 0 and served["failed"] == 0, name
            assert served["server_cpu_ms_per_request"] > 0, name
