"""MLflow's half of the serving benchmark (runs in benchmarks/.venv-mlflow).

Trains the same scikit-learn pipeline as mloop's half on the same Parquet file and saves
it as an MLflow model folder, for ``mlflow models serve`` to serve. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from model import FEATURES, make_model  # benchmarks/serving/model.py (same folder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--model", default="pipeline", choices=sorted(FEATURES))
    args = parser.parse_args()
    frame = pd.read_parquet(args.data)
    features = FEATURES[args.model]
    model = make_model(args.model).fit(frame[features], frame["late"])
    signature = infer_signature(frame[features].head(5), model.predict(frame[features].head(5)))
    mlflow.sklearn.save_model(model, args.out, signature=signature)
    print(json.dumps({"mlflow": mlflow.__version__, "path": args.out}))


if __name__ == "__main__":
    main()
