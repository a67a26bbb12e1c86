"""Evidently's data drift report (DataDriftPreset) on the same files, in its own environment.

benchmarks/.venv-evidently/bin/python peer_evidently.py REF.parquet CUR.parquet --repeat 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import time

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def flagged_columns(snapshot: dict) -> dict:
    """The columns Evidently's report flags, read from its per-column ``ValueDrift`` metrics.

    A p-value method flags a column below its threshold, a distance at or above it; the
    count is checked against the report's own ``DriftedColumnsCount``.
    """
    flagged, methods, reported = [], {}, None
    for metric in snapshot.get("metrics", []):
        config = metric.get("config", {})
        kind = str(config.get("type", ""))
        if kind.endswith("DriftedColumnsCount"):
            reported = int(metric["value"]["count"])
        elif kind.endswith("ValueDrift"):
            method, threshold, value = config["method"], config["threshold"], metric["value"]
            drifted = value < threshold if "p_value" in method else value >= threshold
            methods[config["column"]] = method
            if drifted:
                flagged.append(config["column"])
    return {"columns": flagged, "reported_count": reported, "methods": methods}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference = pd.read_parquet(args.reference)
    current = pd.read_parquet(args.current)
    numeric = [c for c in reference.columns if c.startswith("n")]
    categorical = [c for c in reference.columns if c.startswith("c")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)

    def run() -> object:
        ref = Dataset.from_pandas(reference, data_definition=definition)
        cur = Dataset.from_pandas(current, data_definition=definition)
        return Report([DataDriftPreset()]).run(cur, ref)

    small = definition
    Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current.head(2_000), data_definition=small),
        Dataset.from_pandas(reference.head(2_000), data_definition=small),
    )  # warm-up: imports
    base = rss_mb()
    with open("/proc/self/clear_refs", "w") as refs:  # a new high-water mark from here
        refs.write("5")
    times, cpu = [], []
    snapshot = None
    for _ in range(args.repeat):
        start, clock = time.perf_counter(), time.process_time()
        snapshot = run()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    drifted, flagged = None, None
    with contextlib.suppress(Exception):  # the shape of the snapshot is informative only
        parsed = json.loads(snapshot.json())  # type: ignore[union-attr]
        drifted = parsed["metrics"][0]["value"]
        flagged = flagged_columns(parsed)
    print(
        json.dumps(
            {
                "version": evidently.__version__,
                "rows": len(current),
                "seconds": statistics.median(times),
                "runs": times,
                "cpu_seconds": statistics.median(cpu),
                "peak_mb_over_inputs": peak - base,
                "drifted_summary": drifted,
                "flagged": flagged,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
