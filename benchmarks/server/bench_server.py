"""``mloop server`` against ``mlflow server`` (SQLite both), through each tool's own client.

    python benchmarks/server/bench_server.py --params 10 --metrics 10 --steps 20 --runs 200

Starts both servers as subprocesses on free ports, runs the same client workload
(remote_workload.py) against each with one call per value, and records: logging
throughput, run creation, a filtered and ordered search (first page of 100 and all
matches) and the resident memory of each server's process tree. mloop's server runs
without auth (loopback, no accounts), like MLflow's. ``--peer none`` runs mloop only
(the smoke test). Figures go to benchmarks/results/server.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from peer_env import RESULTS, peer_python  # noqa: E402

MLFLOW_REQUIREMENTS = ["mlflow==3.*"]
WORKLOAD = HERE / "remote_workload.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def rss_mb(pid: int) -> tuple[float, int]:
    """Resident memory of a process and its children (MB), and how many processes."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    return sum(p.memory_info().rss for p in processes) / 1e6, len(processes)


@contextmanager
def server(tool: str, workdir: Path, python: Path | None) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = dict(os.environ)
    if tool == "mloop":
        env.update(MLOOP_HOME=str(workdir / "mloop"), PYTHONPATH=str(ROOT / "src"))
        command = [sys.executable, "-m", "mloop", "server", "--port", str(port)]
        health = f"http://127.0.0.1:{port}/healthz"
    else:
        assert python is not None
        command = [
            str(python.parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            "--default-artifact-root",
            str(workdir / "mlflow-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        health = f"http://127.0.0.1:{port}/health"
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir
    )
    try:
        _wait(health, process)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def workload(tool: str, python: Path, uri: str, argv: list[str]) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src")
    env["MLOOP_HOME"] = tempfile.mkdtemp(prefix="mloop-client-")
    completed = subprocess.run(
        [str(python), str(WORKLOAD), "--tool", tool, "--uri", uri, *argv],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def measure(tool: str, python: Path, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with server(tool, workdir, python if tool == "mlflow" else None) as (uri, pid):
        sizes = ["--params", str(args.params), "--metrics", str(args.metrics)]
        logged = workload(tool, python, uri, ["log", *sizes, "--steps", str(args.steps)])
        created = workload(tool, python, uri, ["create", "--runs", str(args.runs)])
        found = workload(tool, python, uri, ["search", "--experiment-id", created["experiment_id"]])
        memory, processes = rss_mb(pid)
    return {
        "log": logged,
        "create": created,
        "search": found,
        "server_rss_mb": memory,
        "server_processes": processes,
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": vars(args).copy()}
    with tempfile.TemporaryDirectory(prefix="bench-server-") as folder:
        root = Path(folder)
        (root / "mloop").mkdir()
        results["mloop"] = measure("mloop", Path(sys.executable), args, root / "mloop")
        if args.peer == "mlflow":
            python = peer_python("mlflow", MLFLOW_REQUIREMENTS)
            (root / "mlflow").mkdir()
            results["mlflow"] = measure("mlflow", python, args, root / "mlflow")
            ours, theirs = results["mloop"], results["mlflow"]
            results["ratios"] = {
                "logging_values_per_s": ours["log"]["values_per_s"] / theirs["log"]["values_per_s"],
                "create_runs_per_s": ours["create"]["runs_per_s"] / theirs["create"]["runs_per_s"],
                "search_first_page": theirs["search"]["first_page_s"]
                / ours["search"]["first_page_s"],
                "search_all": theirs["search"]["all_s"] / ours["search"]["all_s"],
                "server_rss": theirs["server_rss_mb"] / ours["server_rss_mb"],
            }
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--peer", choices=["mlflow", "none"], default="mlflow")
    parser.add_argument("--output", default=str(RESULTS / "server.json"))
    args = parser.parse_args(argv)
    output = args.output
    del args.output
    results = bench(args)
    if args.peer == "mlflow":
        Path(output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
