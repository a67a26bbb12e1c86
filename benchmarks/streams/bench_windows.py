"""Streaming window aggregation: count and sum of amount per account over the last 10 minutes.

    python benchmarks/streams/bench_windows.py --events 200000 [--bytewax]

The same 200,000 card transactions (time-ordered, 5,000 accounts over one day) go through:

- mloop, per event: :class:`mloop.streams.WindowAggregator` fed micro-batches of 1,000
  and of 10,000 events (each event gets the count and sum of its account's events in
  ``[t - 10 min, t)``, as the offline FeatureView defines them);
- mloop, one batch: the same code on all events at once (the vectorised limit);
- pandas: ``groupby().rolling("10min", closed="left")``;
- offline: the FeatureView's training set (DuckDB), which every result must equal;
- Bytewax 0.21 (``--bytewax``, its own venv): ``stateful_map`` per account, per event;
  and ``SlidingWindower`` (10-minute windows every minute, ``fold_window`` to count and
  sum), whose every window is checked against the offline definition at its end.

Writes benchmarks/results/streams_windows.json (not with --smoke).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from peer_env import peer_python, run_peer, save

HERE = Path(__file__).resolve().parent


def events(n: int, accounts: int = 5_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, 86_400, n))
    return pd.DataFrame(
        {
            "request_id": [f"tx{i}" for i in range(n)],
            "account": rng.integers(0, accounts, n).astype(str),
            "ts": pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(seconds, unit="s"),
            "amount": np.round(rng.gamma(2.0, 40.0, n), 2),
        }
    )


def view(source: pd.DataFrame) -> Any:
    from mloop import features as fs

    return fs.FeatureView(
        "tx",
        entity=fs.Entity("account", join_keys=["account"]),
        source=source,
        timestamp="ts",
        features=["tx_count_10m", "amount_sum_10m"],
        transforms=[
            fs.window_agg(None, "count", "10m", name="tx_count_10m"),
            fs.window_agg("amount", "sum", "10m", name="amount_sum_10m"),
        ],
    )


def mloop_stream(frame: pd.DataFrame, batch: int) -> tuple[float, pd.DataFrame]:
    from mloop.streams import WindowAggregator

    windows = WindowAggregator(view(frame), allowed_lateness="0s")
    parts = []
    started = time.perf_counter()
    for start in range(0, len(frame), batch):
        parts.append(windows.update(frame.iloc[start : start + batch]).rows)
    seconds = time.perf_counter() - started
    return seconds, pd.concat(parts, ignore_index=True)


def pandas_rolling(frame: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    started = time.perf_counter()
    rolled = (
        frame.set_index("ts")
        .groupby("account")["amount"]
        .rolling("10min", closed="left")
        .agg(["count", "sum"])
    )
    seconds = time.perf_counter() - started
    return seconds, rolled


def offline(frame: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    from mloop import features as fs

    store = fs.FeatureStore()
    definition = view(frame)
    store.apply([definition.entity, definition])
    started = time.perf_counter()
    result = store.get_training_set(
        frame[["account", "ts"]].rename(columns={"ts": "event_timestamp"}),
        ["tx:tx_count_10m", "tx:amount_sum_10m"],
    )
    return time.perf_counter() - started, result


def _sliding_wrong(frame: pd.DataFrame, path: str) -> int:
    """How many Bytewax windows differ from the count and sum of their account's events in
    ``[end - 10 min, end)``, computed independently (sorted keys, prefix sums).

    (Not the FeatureView at ``end``: offline, a feature is a value of the source row
    found as of a time, and a window_agg row leaves its own event out.)
    """
    windows = pd.read_parquet(path)
    accounts = pd.Index(frame["account"].unique())
    seconds = (frame["ts"] - frame["ts"].min().floor("D")).dt.total_seconds().astype("int64")
    key = accounts.get_indexer(frame["account"]).astype("int64") * 2**40 + seconds.to_numpy()
    order = np.argsort(key, kind="stable")
    key = key[order]
    prefix = np.concatenate([[0.0], np.cumsum(frame["amount"].to_numpy()[order])])
    ends = (windows["end"] - frame["ts"].min().floor("D")).dt.total_seconds().astype("int64")
    codes = accounts.get_indexer(windows["account"]).astype("int64") * 2**40
    high = np.searchsorted(key, codes + ends.to_numpy(), "left")
    low = np.searchsorted(key, codes + ends.to_numpy() - 600, "left")
    same = ((high - low) == windows["count"].to_numpy()) & np.isclose(
        prefix[high] - prefix[low], windows["sum"], rtol=1e-9, atol=1e-6
    )
    return int((~same).sum())


def bench(args: argparse.Namespace) -> dict[str, Any]:
    import os

    home = tempfile.mkdtemp(prefix="mloop-bench-windows-")
    os.environ["MLOOP_HOME"] = home
    os.chdir(home)
    frame = events(args.events)
    n = len(frame)
    figures: dict[str, Any] = {"events": n, "accounts": int(frame["account"].nunique())}
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)  # a shared machine skews rates
    seconds, reference = offline(frame)
    figures["offline_duckdb_per_second"] = round(n / seconds)
    for label, batch in (
        ("mloop_batches_1000", 1_000),
        ("mloop_batches_10000", 10_000),
        ("mloop_one_batch", n),
    ):
        seconds, rows = mloop_stream(frame, batch)
        assert list(rows["tx_count_10m"]) == list(reference["tx_count_10m"]), label
        np.testing.assert_allclose(
            rows["amount_sum_10m"], reference["amount_sum_10m"], rtol=1e-9, atol=1e-6
        )
        figures[f"{label}_per_second"] = round(n / seconds)
        print(label, figures[f"{label}_per_second"], flush=True)
    seconds, _rolled = pandas_rolling(frame)
    figures["pandas_rolling_per_second"] = round(n / seconds)
    figures["same_results_as_offline"] = True
    if args.bytewax:
        python = peer_python("bytewax", ["bytewax==0.21.1", "pandas", "numpy", "pyarrow"])
        data = Path(home) / "events.parquet"
        frame.to_parquet(data)
        peer = run_peer(python, HERE / "peer_bytewax.py", [str(data)])
        figures["bytewax_stateful_map_per_second"] = peer["per_second"]
        got = pd.read_parquet(peer["output"]).sort_values("request_id").reset_index(drop=True)
        want = (
            pd.DataFrame(
                {
                    "request_id": frame["request_id"],
                    "count": reference["tx_count_10m"],
                    "sum": reference["amount_sum_10m"],
                }
            )
            .sort_values("request_id")
            .reset_index(drop=True)
        )
        figures["bytewax_same_results"] = bool(
            (got["count"].to_numpy() == want["count"].to_numpy()).all()
            and np.allclose(got["sum"], want["sum"], rtol=1e-9, atol=1e-6)
        )
        figures["mloop_batches_10000_vs_bytewax"] = round(
            figures["mloop_batches_10000_per_second"] / peer["per_second"], 1
        )
        sliding = run_peer(python, HERE / "peer_bytewax_sliding.py", [str(data)])
        figures["bytewax_sliding_per_second"] = sliding["per_second"]
        figures["bytewax_sliding_windows"] = sliding["windows"]
        # EventClock(wait_for_system_duration=0): its watermark also advances with the
        # system clock, so on a slow run an event can be judged late and left out
        figures["bytewax_sliding_windows_wrong"] = _sliding_wrong(frame, sliding["output"])
        for label in ("mloop_batches_1000", "mloop_batches_10000"):
            figures[f"{label}_vs_bytewax_sliding"] = round(
                figures[f"{label}_per_second"] / sliding["per_second"], 1
            )
    print(figures)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--bytewax", action="store_true", help="also run Bytewax in its own venv")
    parser.add_argument("--smoke", action="store_true", help="tiny size; results not saved")
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.bytewax = 2_000, False
    figures = bench(args)
    if not args.smoke:
        print(save("streams_windows", figures))


if __name__ == "__main__":
    main()
