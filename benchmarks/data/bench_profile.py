"""Profiles: mloop's mergeable profile of 1,000,000 x 25 vs pandas' exact summaries (and whylogs).

    .venv/bin/python benchmarks/data/bench_profile.py                # 1,000,000 rows, whylogs included
    .venv/bin/python benchmarks/data/bench_profile.py --rows 20000 --no-peers

The data: 15 float columns (1 % nulls), 5 integer columns, 5 text columns with 5, 20,
100, 1,000 and 50,000 distinct values. Measured (medians): mloop's profile of the
DataFrame; the same from the Parquet file read in batches; merging two profiles; the
serialised size. For scale: pandas' ``describe()`` with 5 quantiles plus ``value_counts``
of the text columns (exact, but neither mergeable nor bounded in memory), and whylogs'
profile (a mergeable-profile peer, in its own environment). Writes
``benchmarks/results/data_profile.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

CARDINALITIES = (5, 20, 100, 1_000, 50_000)


def make(rows: int, seed: int = 0) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i in range(15):
        values = rng.normal(50.0, 10.0, rows)
        values[rng.random(rows) < 0.01] = np.nan
        columns[f"f{i}"] = values
    for i in range(5):
        columns[f"i{i}"] = rng.integers(0, 1_000, rows)
    for i, distinct in enumerate(CARDINALITIES):
        labels = np.array([f"c{k}" for k in range(distinct)])
        columns[f"s{i}"] = pd.array(labels[rng.integers(0, distinct, rows)], dtype="str")
    return pd.DataFrame(columns)


def _median(work: Any, repeat: int) -> tuple[float, list[float], Any, float]:
    """Median wall time, every wall time, the last result, and the median CPU time."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, clock = time.perf_counter(), time.process_time()
        result = work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
    return statistics.median(times), times, result, statistics.median(cpu)


def pandas_summary(frame: Any) -> Any:
    numeric = frame.select_dtypes("number")
    texts = [c for c in frame.columns if c not in numeric.columns]
    return numeric.describe(percentiles=[0.01, 0.25, 0.5, 0.75, 0.99]), {
        c: frame[c].value_counts() for c in texts
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-save", action="store_true", help="Print only (for smoke tests).")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mloop-bench-profile-"))
    try:
        _run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> None:
    from peer_env import peer_python, run_peer, save

    from mloop.data import merge, profile

    frame = make(args.rows)
    path = folder / "data.parquet"
    frame.to_parquet(path, index=False)
    profile(frame.head(1000))  # warm-up: lazy imports
    figures: dict[str, Any] = {
        "rows": len(frame),
        "columns": frame.shape[1],
        "load_average": os.getloadavg(),
    }
    seconds, runs, result, cpu = _median(lambda: profile(frame), args.repeat)
    figures["mloop"] = {"profile_s": seconds, "profile_all_s": runs, "profile_cpu_s": cpu}
    seconds, _, streamed, cpu = _median(lambda: profile(path), max(1, args.repeat // 2))
    figures["mloop"]["profile_parquet_s"] = seconds
    figures["mloop"]["profile_parquet_cpu_s"] = cpu
    half = len(frame) // 2
    left, right = profile(frame.iloc[:half]), None
    right = profile(frame.iloc[half:], like=left)
    seconds, _, merged, _ = _median(lambda: merge(left, right), args.repeat)
    figures["mloop"]["merge_s"] = seconds
    text = result.to_json()
    figures["mloop"]["json_bytes"] = len(text)
    start = time.perf_counter()
    type(result).from_json(text)
    figures["mloop"]["from_json_s"] = time.perf_counter() - start
    assert merged.num_rows == streamed.num_rows == len(frame)
    seconds, runs, _, cpu = _median(lambda: pandas_summary(frame), args.repeat)
    figures["pandas"] = {"profile_s": seconds, "profile_all_s": runs, "profile_cpu_s": cpu}
    if not args.no_peers:
        try:
            python = peer_python("whylogs", ["whylogs==1.*", "pandas<3", "pyarrow"])
        except Exception as exc:  # an optional peer: report why it is missing
            figures["whylogs"] = {"error": f"could not install whylogs: {exc}"}
        else:
            repeat = str(min(args.repeat, 3))  # whylogs is slow: a few runs are enough
            figures["whylogs"] = run_peer(
                python, HERE / "peer_whylogs.py", [str(path), "--repeat", repeat]
            )
    _report(figures)
    if not args.no_save:
        print(f"written to {save('data_profile', figures)}")


def _report(figures: dict[str, Any]) -> None:
    mloop = figures["mloop"]
    print(f"{figures['rows']:,} rows x {figures['columns']} columns")
    print(
        f"mloop profile (DataFrame)        {mloop['profile_s']:.3f} s  (CPU {mloop['profile_cpu_s']:.3f} s)"
    )
    print(f"mloop profile (Parquet, batches) {mloop['profile_parquet_s']:.3f} s")
    print(f"mloop merge of two profiles      {mloop['merge_s'] * 1000:.1f} ms")
    print(f"mloop serialised profile         {mloop['json_bytes'] / 1024:.0f} KiB")
    pandas = figures["pandas"]
    print(
        f"pandas describe + value_counts   {pandas['profile_s']:.3f} s  (CPU {pandas['profile_cpu_s']:.3f} s)"
    )
    whylogs = figures.get("whylogs")
    if whylogs and "profile_s" in whylogs:
        print(
            f"whylogs profile                  {whylogs['profile_s']:.3f} s  (CPU {whylogs['profile_cpu_s']:.3f} s, whylogs {whylogs['version']})"
        )
    elif whylogs:
        print(f"whylogs: {whylogs['error']}")
    print(json.dumps({k: v for k, v in mloop.items() if k != "profile_all_s"}))


if __name__ == "__main__":
    main()
