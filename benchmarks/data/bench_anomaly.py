"""Anomaly detection throughput: records scored per second with 10 numeric features.

    .venv/bin/python benchmarks/data/bench_anomaly.py                # 1,000,000 records
    .venv/bin/python benchmarks/data/bench_anomaly.py --rows 20000

The robust detector (median/MAD) and the IsolationForest detector (scikit-learn, 100
trees) are fitted on 100,000 reference records and score batches of a DataFrame;
``flag`` adds thresholding, ranking and explanations of the flagged records. Medians of
``--repeat`` runs. Writes ``benchmarks/results/data_anomaly.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FEATURES = 10


def _median(work: Any, repeat: int, cpu: list[float] | None = None) -> float:
    """Median wall time (and, into ``cpu``, the median CPU time)."""
    times, clocks = [], []
    for _ in range(repeat):
        start, clock = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - start)
        clocks.append(time.process_time() - clock)
    if cpu is not None:
        cpu.append(statistics.median(clocks))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-save", action="store_true", help="Print only (for smoke tests).")
    parser.add_argument(
        "--no-peers", action="store_true", help="No peer here (accepted for uniformity)."
    )
    args = parser.parse_args()
    import numpy as np
    import pandas as pd
    from peer_env import save

    from mloop.data import IsolationForestDetector, RobustDetector

    rng = np.random.default_rng(0)
    names = [f"x{j}" for j in range(FEATURES)]
    reference = pd.DataFrame(rng.normal(size=(100_000, FEATURES)), columns=names)
    batch = pd.DataFrame(rng.normal(size=(args.rows, FEATURES)), columns=names)
    batch.iloc[rng.choice(args.rows, 50, replace=False), 3] = 40.0
    figures: dict[str, Any] = {
        "rows": args.rows,
        "features": FEATURES,
        "load_average": os.getloadavg(),
    }
    robust = RobustDetector().fit(reference)
    robust.score(batch.head(10))
    cpu: list[float] = []
    score = _median(lambda: robust.score(batch), args.repeat, cpu)
    flag = _median(lambda: robust.flag(batch), args.repeat)
    matrix = batch.to_numpy()
    array = _median(lambda: robust.score(matrix), args.repeat)
    figures["robust"] = {
        "fit_s": _median(lambda: RobustDetector().fit(reference), 3),
        "score_s": score,
        "records_per_s": args.rows / score,
        "records_per_cpu_s": args.rows / cpu[0],
        "score_numpy_s": array,
        "flag_s": flag,
        "flagged": len(robust.flag(batch)),
    }
    forest = IsolationForestDetector().fit(reference)
    sample = batch.head(min(args.rows, 200_000))
    seconds = _median(lambda: forest.score(sample), max(1, args.repeat // 2))
    figures["isolation_forest"] = {
        "score_s_per_200k": seconds,
        "records_per_s": len(sample) / seconds,
    }
    print(f"{args.rows:,} records x {FEATURES} features")
    for name, entry in (
        ("robust", figures["robust"]),
        ("isolation forest", figures["isolation_forest"]),
    ):
        print(f"{name:<18}{entry['records_per_s']:>14,.0f} records/s")
    print(f"robust, per CPU second: {figures['robust']['records_per_cpu_s']:,.0f} records")
    print(
        f"robust flag() incl. explanations: {figures['robust']['flag_s']:.3f} s, {figures['robust']['flagged']} flagged"
    )
    if not args.no_save:
        print(f"written to {save('data_anomaly', figures)}")


if __name__ == "__main__":
    main()
