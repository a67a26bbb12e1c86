"""MLflow's half of the evaluation benchmark (runs in benchmarks/.venv-mlflow).

    python peer_mlflow_evaluate.py scored.parquet --repeats 3

``mlflow.evaluate`` on a static dataset with a predictions column (metrics, plots and
artifacts logged to a run), once on all rows and once per slice value, as an MLflow user
would slice. Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import warnings

import pandas as pd

SLICES = ["origin", "carrier", "month"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import mlflow

    frame = pd.read_parquet(args.path)
    data = pd.DataFrame({"late": frame["late"], "prediction": (frame["proba"] >= 0.5).astype(int)})
    with tempfile.TemporaryDirectory() as home:
        mlflow.set_tracking_uri(f"sqlite:///{home}/mlflow.db")
        mlflow.set_experiment("bench")

        def run(rows: pd.DataFrame) -> dict[str, float]:
            with mlflow.start_run():
                result = mlflow.evaluate(
                    data=rows, targets="late", predictions="prediction", model_type="classifier"
                )
            return dict(result.metrics)

        run(data.head(1000))  # warm-up
        overall = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            metrics = run(data)
            overall.append(time.perf_counter() - start)
        start = time.perf_counter()
        count = 0
        for column in SLICES:
            for value in sorted(frame[column].unique()):
                run(data[frame[column] == value])
                count += 1
        sliced = time.perf_counter() - start
    print(
        json.dumps(
            {
                "rows": len(frame),
                "overall_s": statistics.median(overall),
                "sliced_s": sliced,
                "slices": count,
                "metrics": sorted(metrics),
                "mlflow": mlflow.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
