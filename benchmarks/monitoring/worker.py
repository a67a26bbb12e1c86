"""One measurement in a fresh process (so its peak memory is its own); prints one JSON line.

python worker.py mloop REF.parquet CUR.parquet --repeat 3
python worker.py by_hand REF.parquet CUR.parquet --repeat 3
python worker.py mloop_profile REF_PROFILE.json CUR.parquet --repeat 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def reset_peak() -> None:
    """Start a new high-water mark of resident memory (Linux: VmHWM), after the inputs load."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def peak_mb() -> float:
    """The high-water mark of resident memory since :func:`reset_peak` (MB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work: Any, repeat: int) -> tuple[float, list[float], float, Any]:
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, clock = time.perf_counter(), time.process_time()
        result = work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
    return statistics.median(times), times, statistics.median(cpu), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["mloop", "by_hand", "mloop_profile"])
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import pandas as pd

    from data import CATEGORICAL, NUMERIC

    current = pd.read_parquet(args.current)
    figures: dict[str, Any] = {"mode": args.mode, "rows": len(current)}
    if args.mode == "mloop_profile":
        from mloop import data
        from mloop.monitoring import drift

        reference = data.Profile.from_json(Path(args.reference).read_text())
        drift(reference, current.head(2_000))  # warm-up: lazy imports
        base = rss_mb()
        reset_peak()
        seconds, runs, cpu, report = timed(lambda: drift(reference, current), args.repeat)
        figures.update(
            seconds=seconds, runs=runs, cpu_seconds=cpu, peak_mb_over_inputs=peak_mb() - base
        )
        window = data.profile(current, like=reference)
        seconds, runs, _, _ = timed(lambda: data.profile(current, like=reference), 1)
        figures["window_profile_seconds"] = seconds
        seconds, runs, _, _ = timed(lambda: drift(reference, window), args.repeat)
        figures["profile_vs_profile_seconds"] = seconds
        figures["drifted"] = report.drifted
    else:
        reference = pd.read_parquet(args.reference)
        if args.mode == "mloop":
            from mloop.monitoring import drift

            drift(reference.head(2_000), current.head(2_000))  # warm-up: lazy imports
            work = lambda: drift(reference, current)  # noqa: E731
        else:
            from by_hand import drift as hand

            hand(reference.head(2_000), current.head(2_000), NUMERIC, CATEGORICAL)
            work = lambda: hand(reference, current, NUMERIC, CATEGORICAL)  # noqa: E731
        base = rss_mb()
        reset_peak()
        seconds, runs, cpu, result = timed(work, args.repeat)
        figures.update(
            seconds=seconds, runs=runs, cpu_seconds=cpu, peak_mb_over_inputs=peak_mb() - base
        )
        if args.mode == "mloop":
            figures["scores"] = {name: f.scores for name, f in result.features.items()}
            figures["drifted"] = result.drifted
        else:
            figures["scores"] = result
    print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()
