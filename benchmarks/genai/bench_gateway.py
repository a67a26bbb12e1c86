"""Gateway overhead: mloop's gateway vs LiteLLM's proxy vs MLflow's AI gateway, one run.

All three forward the same chat completion to the same fast upstream (``upstream.py``,
answering at once) and run as one process each (one worker) on loopback; load comes from
``wrk`` in a separate process. Measured in one run:

1. the upstream directly, at 16 connections and paced at 200 req/s (the floor);
2. each gateway at 16 connections (requests/s, p50, p99) and paced at 200 req/s;
3. overhead = a gateway's latency minus the upstream's at the same load;
4. optionally (``--soak-seconds``), mloop's gateway paced at half its peak: RSS every
   10 s, and its growth after a warm-up of a fifth of the run.

    python benchmarks/genai/bench_gateway.py [--seconds 10] [--soak-seconds 180]

The peers live in their own venvs (benchmarks/.venv-litellm, .venv-mlflow-gateway).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import chat_body, paced, wrk  # noqa: E402
from peer_env import peer_python, save  # noqa: E402

LITELLM = ["litellm[proxy]==1.108.7"]
KEY = "sk-bench-0123456789abcdef"  # every gateway that has keys checks one
MLFLOW = ["mlflow[gateway]==3.18.0"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_answer(
    url: str,
    body: dict[str, Any],
    process: subprocess.Popen[bytes],
    timeout: float = 300,
    token: str | None = None,
) -> float:
    """Seconds until ``url`` answers ``body`` with 200 (one real answer before measuring)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    last = ""
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            err = process.stderr.read().decode()[-2000:] if process.stderr else ""
            raise RuntimeError(
                f"the server exited ({process.returncode}) before {url} answered: {err}"
            )
        try:
            response = httpx.post(url, json=body, timeout=10, headers=headers)
            if response.status_code == 200 and response.json()["choices"][0]["message"]["content"]:
                return time.monotonic() - started
            last = f"{response.status_code} {response.text[:200]}"
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s: {last}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(
    name: str, url: str, body: dict[str, Any], seconds: float, token: str | None = None
) -> dict[str, Any]:
    wrk(url, body, 16, min(3.0, seconds), token=token)  # warm-up
    busy = wrk(url, body, 16, seconds, token=token)
    steady = paced(url, body, 200, seconds, token=token)
    print(
        f"{name}: 16 conns {busy['rps']} req/s p50 {busy['p50_ms']} p99 {busy['p99_ms']} ms; "
        f"paced {steady['rps']} req/s p99 {steady['p99_ms']} ms",
        flush=True,
    )
    return {"busy": busy, "paced_200": steady}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--soak-seconds", type=float, default=0)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--name", default="genai_gateway", help="results/<name>.json")
    parser.add_argument(
        "--no-tracing", action="store_true", help="mloop's gateway without its span per call"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    up_port = free_port()
    upstream = start([sys.executable, str(HERE / "upstream.py"), "--port", str(up_port)])
    base = f"http://127.0.0.1:{up_port}/v1"
    results: dict[str, Any] = {"seconds": args.seconds, "cpu_count": os.cpu_count(), "workers": 1}
    try:
        wait_answer(base + "/chat/completions", chat_body("bench-model"), upstream)
        results["upstream"] = measure(
            "upstream", base + "/chat/completions", chat_body("bench-model"), args.seconds
        )

        def keep() -> None:
            summarize(results)
            if not args.no_save:
                save(args.name, results)

        if not args.skip_peers:
            for name, run in (("litellm", run_litellm), ("mlflow", run_mlflow)):
                try:
                    results[name] = run(work, base, args.seconds)
                except Exception as exc:  # a peer that cannot start is reported, not fatal
                    results[name] = {"error": str(exc)[-500:]}
                keep()

        config = work / "routes.yaml"
        config.write_text(
            "api_keys:\n  - {env: GW_BENCH_KEY, user: bench}\nroutes:\n  chat:\n    deployments:\n"
            f'      - {{provider: openai, model: bench-model, api_base: "{base}"}}\n'
            + ("tracing: false\n" if args.no_tracing else "")
        )
        results["tracing"] = not args.no_tracing
        port = free_port()
        mloop_proc = start(
            [
                sys.executable,
                "-m",
                "mloop",
                "gateway",
                "--config",
                str(config),
                "--port",
                str(port),
            ],
            env={
                "MLOOP_HOME": str(work / "home"),
                "PYTHONPATH": str(ROOT / "src"),
                "GW_BENCH_KEY": KEY,
            },
        )
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        try:
            results["mloop_start_s"] = round(
                wait_answer(url, chat_body("chat"), mloop_proc, token=KEY), 2
            )
            results["mloop"] = measure("mloop", url, chat_body("chat"), args.seconds, token=KEY)
            results["mloop"]["rss_mb"] = round(rss_mb(mloop_proc.pid), 1)
            keep()
            if args.soak_seconds:
                results["soak"] = soak(
                    url, mloop_proc.pid, results["mloop"]["busy"]["rps"] / 2, args.soak_seconds
                )
                keep()
        finally:
            stop(mloop_proc)
    finally:
        stop(upstream)
    print(results)


def run_litellm(work: Path, base: str, seconds: float) -> dict[str, Any]:
    python = peer_python("litellm", LITELLM)
    config = work / "litellm.yaml"
    config.write_text(
        f"general_settings:\n  master_key: {KEY}\n"
        "model_list:\n  - model_name: chat\n    litellm_params:\n"
        f"      model: openai/bench-model\n      api_base: {base}\n      api_key: sk-bench\n"
    )
    port = free_port()
    process = start(
        [
            str(python.parent / "litellm"),
            "--config",
            str(config),
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        env={"LITELLM_LOG": "ERROR"},
        cwd=work,
    )
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        start_s = wait_answer(url, chat_body("chat"), process, token=KEY)
        out = measure("litellm", url, chat_body("chat"), seconds, token=KEY)
        out["start_s"] = round(start_s, 2)
        out["rss_mb"] = round(rss_mb(process.pid), 1)
        return out
    finally:
        stop(process)


def run_mlflow(work: Path, base: str, seconds: float) -> dict[str, Any]:
    python = peer_python("mlflow-gateway", MLFLOW)
    config = work / "mlflow.yaml"
    config.write_text(
        "endpoints:\n  - name: chat\n    endpoint_type: llm/v1/chat\n    model:\n"
        "      provider: openai\n      name: bench-model\n      config:\n"
        f"        openai_api_key: sk-bench\n        openai_api_base: {base}\n"
    )
    port = free_port()
    process = start(
        [
            str(python.parent / "mlflow"),
            "gateway",
            "start",
            "--config-path",
            str(config),
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=work,
    )
    url = f"http://127.0.0.1:{port}/v1/chat/completions"  # MLflow's OpenAI-compatible route
    try:
        start_s = wait_answer(url, chat_body("chat"), process)
        out = measure("mlflow", url, chat_body("chat"), seconds)
        out["start_s"] = round(start_s, 2)
        out["rss_mb"] = round(rss_mb(process.pid), 1)
        return out
    finally:
        stop(process)


def soak(url: str, pid: int, rate: float, seconds: float) -> dict[str, Any]:
    """mloop's gateway paced at ``rate`` for ``seconds``; RSS sampled every 10 s."""
    import threading

    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        started = time.monotonic()
        while not done.wait(10):
            samples.append((round(time.monotonic() - started), round(rss_mb(pid), 1)))

    tuned = paced(url, chat_body("chat"), rate, 5, token=KEY)  # short runs find the wait
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    run = wrk(url, chat_body("chat"), tuned["connections"], seconds, tuned["wait_ms"], token=KEY)
    done.set()
    sampler.join()
    warm = [mb for t, mb in samples if t >= seconds / 5]
    growth = (warm[-1] - warm[0]) / warm[0] * 100 if len(warm) >= 2 else None
    return {
        "seconds": seconds,
        "target_rps": round(rate, 1),
        "rps": run["rps"],
        "requests": run["requests"],
        "failed": run["failed"],
        "p99_ms": run["p99_ms"],
        "rss_mb": samples,
        "rss_growth_after_warmup_pct": None if growth is None else round(growth, 2),
    }


def summarize(results: dict[str, Any]) -> None:
    up = results["upstream"]
    ratios: dict[str, Any] = {}
    for name in ("mloop", "litellm", "mlflow"):
        if "busy" not in results.get(name, {}):
            continue
        r = results[name]
        r["overhead_p50_ms_busy"] = round(r["busy"]["p50_ms"] - up["busy"]["p50_ms"], 3)
        r["overhead_p99_ms_paced"] = round(r["paced_200"]["p99_ms"] - up["paced_200"]["p99_ms"], 3)
        r["overhead_p50_ms_paced"] = round(r["paced_200"]["p50_ms"] - up["paced_200"]["p50_ms"], 3)
    if "busy" not in results.get("mloop", {}):
        return
    if "busy" in results.get("litellm", {}):
        ratios["mloop_over_litellm_rps"] = round(
            results["mloop"]["busy"]["rps"] / results["litellm"]["busy"]["rps"], 1
        )
    if "busy" in results.get("mlflow", {}):
        ratios["mloop_over_mlflow_rps"] = round(
            results["mloop"]["busy"]["rps"] / results["mlflow"]["busy"]["rps"], 2
        )
    results["ratios"] = ratios


if __name__ == "__main__":
    main()
