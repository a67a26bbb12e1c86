"""MLflow's half of the flavor benchmarks (runs in benchmarks/.venv-mlflow-models).

``save``: the same PyTorch MLP (same class file, same weights) and the same ONNX graph as
mloop's half, saved as MLflow model folders. ``load``: the time ``mlflow.pyfunc.load_model``
takes in this fresh process, and one prediction. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def save(args: argparse.Namespace) -> dict[str, object]:
    import mlflow.onnx
    import mlflow.pytorch
    import numpy as np
    import onnx
    import torch
    from safetensors.torch import load_file

    sys.path.insert(0, str(Path(args.code).parent))
    from mlp import DelayMLP

    net = DelayMLP(inputs=args.inputs)
    net.load_state_dict(load_file(args.weights))
    net.eval()
    example = np.zeros((5, args.inputs), dtype="float32")  # MLflow 3 exports (pt2) from it
    mlflow.pytorch.save_model(net, f"{args.out}/mlp", code_paths=[args.code], input_example=example)
    mlflow.onnx.save_model(onnx.load(args.onnx), f"{args.out}/onnx")
    return {"mlflow": mlflow.__version__, "torch": torch.__version__}


def load(args: argparse.Namespace) -> dict[str, object]:
    started = time.perf_counter()
    import mlflow.pyfunc
    import pandas as pd

    imported = time.perf_counter()
    model = mlflow.pyfunc.load_model(args.path)
    loaded = time.perf_counter()
    rows = pd.read_parquet(args.rows)
    model.predict(rows.astype("float32"))
    return {
        "import_s": imported - started,
        "load_s": loaded - imported,
        "first_predict_s": time.perf_counter() - loaded,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["save", "load"])
    parser.add_argument("--code")
    parser.add_argument("--weights")
    parser.add_argument("--inputs", type=int, default=4)
    parser.add_argument("--onnx")
    parser.add_argument("--out")
    parser.add_argument("--path")
    parser.add_argument("--rows")
    args = parser.parse_args()
    print(json.dumps(save(args) if args.action == "save" else load(args)))


if __name__ == "__main__":
    main()
