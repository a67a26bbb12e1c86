"""The GenAI tracing benchmark runs end to end at a tiny size, without MLflow."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "genai" / "bench_tracing.py"


def test_the_tracing_benchmark_stores_every_span_and_reports_costs() -> None:
    spec = importlib.util.spec_from_file_location("genai_bench_tracing", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.main(["--calls", "20", "--rounds", "8", "--no-peers", "--no-save"])
    mloop = figures["mloop"]
    assert mloop["spans_found"] == 50 + 20 + 20 and mloop["dropped"] == 0
    assert mloop["llm_span"]["p50_us"] > 0 and mloop["decorated_noop"]["stored_per_s"] > 0
    guardrails = figures["guardrails"]
    assert guardrails["pii_mloop_default_with_pii"]["p50_us"] > 0
    assert guardrails["injection_clean"]["p50_us"] > 0
