"""The stock MLflow client against ``mlflow server`` and against mloop's MLflow API, same run.

    python benchmarks/server/bench_mlflow_client.py            # modest sizes, both servers
    python benchmarks/server/bench_mlflow_client.py --only mloop --runs 20   # no MLflow server

Both servers run on this machine with one worker and SQLite (MLflow: its SQLAlchemy
store and proxied artifacts; mloop: embedded stores, its MLflow router on uvicorn). The
same client script (client_workload.py, in MLflow's own environment) logs one run with
one call per value, one run with ``log_batch``, creates small runs and searches them;
figures go to ``benchmarks/results/server_mlflow_client.json``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))

from peer_env import peer_python, run_peer, save  # noqa: E402

MLFLOW = ["mlflow==3.18.0"]
SIZES = (
    "params",
    "metrics",
    "steps",
    "batch-params",
    "batch-metrics",
    "batch-steps",
    "runs",
    "repeat",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    """Until the server answers any HTTP status at ``url``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"the server for {url} did not start in {timeout} s")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped with its workers
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def measure(
    client: Path, command: list[str], probe: str, url: str, sizes: list[str], env: Any = None
) -> dict[str, Any]:
    server = start(command, env)
    try:
        wait_until_up(probe, server)
        idle = tree_rss_mb(server.pid)
        figures = run_peer(client, HERE / "client_workload.py", ["--uri", url, *sizes])
        figures["server_rss_mb"] = {"idle": idle, "after": tree_rss_mb(server.pid)}
        return figures
    finally:
        stop(server)


def mloop_half(client: Path, workdir: Path, sizes: list[str]) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("MLOOP_")}
    command = [
        sys.executable,
        "-m",
        "benchmarks.server.mloop_app",
        "--port",
        str(port),
        "--home",
        str(workdir / ".mloop"),
    ]
    url = f"http://127.0.0.1:{port}"
    return measure(client, command, f"{url}/api/2.0/mlflow/experiments/search", url, sizes, env)


def mlflow_half(python: Path, workdir: Path, sizes: list[str]) -> dict[str, Any]:
    port = free_port()
    command = [
        str(python),
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination",
        str(workdir / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    url = f"http://127.0.0.1:{port}"
    return measure(python, command, f"{url}/health", url, sizes)


def ratios(mlflow: dict[str, Any], mloop: dict[str, Any]) -> dict[str, float]:
    """How many times faster (or lighter) mloop is, per figure."""
    return {
        "per_call_values_per_s": mloop["per_call"]["values_per_s"]
        / mlflow["per_call"]["values_per_s"],
        "log_batch_values_per_s": mloop["log_batch"]["values_per_s"]
        / mlflow["log_batch"]["values_per_s"],
        "create_runs_per_s": mloop["create_runs"]["runs_per_s"]
        / mlflow["create_runs"]["runs_per_s"],
        "search_first_100": mlflow["search_first_100"]["seconds"]
        / mloop["search_first_100"]["seconds"],
        "search_all": mlflow["search_all"]["seconds"] / mloop["search_all"]["seconds"],
        "server_rss_after": mlflow["server_rss_mb"]["after"] / mloop["server_rss_mb"]["after"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["both", "mloop"], default="both")
    parser.add_argument("--client-python", help="an interpreter with mlflow (default: its venv)")
    parser.add_argument("--no-save", action="store_true")
    defaults = {"params": 10, "metrics": 10, "steps": 10, "batch-params": 50}
    defaults.update({"batch-metrics": 100, "batch-steps": 100, "runs": 200, "repeat": 3})
    for name in SIZES:
        parser.add_argument(f"--{name}", type=int, default=defaults[name])
    args = parser.parse_args(argv)
    sizes = [
        part for name in SIZES for part in (f"--{name}", str(getattr(args, name.replace("-", "_"))))
    ]
    python = Path(args.client_python) if args.client_python else peer_python("mlflow", MLFLOW)
    result: dict[str, Any] = {"sizes": dict(zip(sizes[::2], sizes[1::2], strict=True))}
    with tempfile.TemporaryDirectory(prefix="bench-mlflow-client-") as folder:
        workdir = Path(folder)
        result["mloop"] = mloop_half(python, workdir / "mloop", sizes)
        if args.only == "both":
            result["mlflow"] = mlflow_half(python, workdir / "mlflow", sizes)
            result["ratios"] = ratios(result["mlflow"], result["mloop"])
    result["host"] = {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]}
    if not args.no_save:
        print(save("server_mlflow_client", result))
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
