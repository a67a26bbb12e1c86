"""The model-loading benchmark runs end to end at a tiny size, so it cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "models" / "bench_loading.py"


def test_the_loading_benchmark_times_flavors_in_fresh_processes() -> None:
    spec = importlib.util.spec_from_file_location("bench_loading", FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--smoke", "--flavors", "code,lightgbm"])  # the cheap ones
    flavors = results["flavors"]
    assert list(flavors) == ["code", "lightgbm"]
    for flavor, figures in flavors.items():
        assert set(figures) == {"import", "load", "predict", "process"}, flavor
        assert 0 < figures["load"] < figures["process"], flavor
        assert figures["import"] + figures["load"] + figures["predict"] < figures["process"]
