"""The gateway benchmarks' parts run at tiny sizes, without the peers, so they cannot rot.

Speed is not asserted (benchmarks/genai measures it): the fast upstream must answer like an
OpenAI endpoint, the gateway must forward to it, and the summary must compute overheads.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks" / "genai"


def _script(name: str) -> ModuleType:
    sys.path.insert(0, str(FOLDER))
    sys.path.insert(0, str(FOLDER.parent))
    spec = importlib.util.spec_from_file_location(f"genai_{name}", FOLDER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def upstream_url():
    bench = _script("bench_gateway")
    port = bench.free_port()
    process = bench.start([sys.executable, str(FOLDER / "upstream.py"), "--port", str(port)])
    url = f"http://127.0.0.1:{port}/v1"
    try:
        bench.wait_answer(
            url + "/chat/completions", {"model": "m", "messages": []}, process, timeout=60
        )
        yield url
    finally:
        bench.stop(process)


def test_the_fast_upstream_answers_chat_and_embeddings_on_one_connection(upstream_url):
    with httpx.Client() as client:  # keep-alive: several requests on one connection
        answers = [
            client.post(upstream_url + "/chat/completions", json={"model": "m"}).json()
            for _ in range(3)
        ]
        embedding = client.post(upstream_url + "/embeddings", json={"input": "x"}).json()
    assert [a["choices"][0]["message"]["content"] for a in answers] == ["Paris."] * 3
    assert embedding["data"][0]["embedding"] == [0.1, 0.2, 0.3]


def test_the_gateway_forwards_to_the_fast_upstream(upstream_url, tmp_path):
    bench = _script("bench_gateway")
    config = tmp_path / "routes.yaml"
    config.write_text(
        f'routes:\n  chat:\n    deployments:\n      - {{provider: openai, model: bench-model, api_base: "{upstream_url}"}}\n'
    )
    port = bench.free_port()
    root = FOLDER.parent.parent
    process = bench.start(
        [
            sys.executable,
            "-m",
            "mloop",
            "gateway",
            "--config",
            str(config),
            "--port",
            str(port),
            "--no-ledger",
        ],
        env={"MLOOP_HOME": str(tmp_path / "home"), "PYTHONPATH": str(root / "src")},
    )
    try:
        seconds = bench.wait_answer(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            bench.chat_body("chat"),
            process,
            timeout=120,
        )
        assert seconds < 120
        assert bench.rss_mb(process.pid) > 10
    finally:
        bench.stop(process)


def test_the_summary_computes_overheads_and_ratios():
    bench = _script("bench_gateway")

    def run(rps: float, p50: float, p99: float) -> dict:
        return {
            "busy": {"rps": rps, "p50_ms": p50, "p99_ms": p99},
            "paced_200": {"rps": 200, "p50_ms": p50, "p99_ms": p99},
        }

    results = {
        "upstream": run(20000, 0.2, 0.5),
        "mloop": run(3000, 1.2, 1.5),
        "litellm": run(100, 150, 600),
        "mlflow": run(1000, 15, 100),
    }
    bench.summarize(results)
    assert results["ratios"] == {"mloop_over_litellm_rps": 30.0, "mloop_over_mlflow_rps": 3.0}
    assert results["mloop"]["overhead_p99_ms_paced"] == pytest.approx(1.0)
