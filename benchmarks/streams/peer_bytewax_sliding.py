"""Bytewax's SlidingWindower half of bench_windows.py (runs in benchmarks/.venv-bytewax).

Per account, 10-minute windows opening every minute over event time (``SlidingWindower``,
``EventClock``), each folded to the count and sum of its events' amounts: every event
lands in 10 windows. Prints one JSON line: the rate and the Parquet file of the results
(account, window end, count, sum).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, timedelta

import pandas as pd
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.operators import windowing as win
from bytewax.testing import TestingSink, TestingSource, run_main

LENGTH = timedelta(minutes=10)
OFFSET = timedelta(minutes=1)


def main(path: str) -> None:
    frame = pd.read_parquet(path)
    utc = UTC  # Bytewax wants this very tzinfo, not pandas' UTC
    start = frame["ts"].min().floor("D").to_pydatetime().replace(tzinfo=utc)
    stamps = [t.replace(tzinfo=utc) for t in frame["ts"].dt.to_pydatetime()]
    items = list(zip(frame["account"], stamps, frame["amount"], strict=True))
    out: list = []
    flow = Dataflow("sliding")
    stream = op.input("in", flow, TestingSource(items, batch_size=1_000))
    keyed = op.map("key", stream, lambda e: (e[0], (e[1], e[2])))
    clock = win.EventClock(lambda e: e[0], wait_for_system_duration=timedelta(0))
    windower = win.SlidingWindower(length=LENGTH, offset=OFFSET, align_to=start)
    folded = win.fold_window(
        "count_sum",
        keyed,
        clock,
        windower,
        builder=lambda: (0, 0.0),
        folder=lambda acc, e: (acc[0] + 1, acc[1] + e[1]),
        merger=lambda a, b: (a[0] + b[0], a[1] + b[1]),
    )
    op.output("out", folded.down, TestingSink(out))
    started = time.perf_counter()
    run_main(flow)
    seconds = time.perf_counter() - started
    rows = [
        (account, start + OFFSET * window_id + LENGTH, count, total)
        for account, (window_id, (count, total)) in out
    ]
    result = pd.DataFrame(rows, columns=["account", "end", "count", "sum"])
    result["end"] = pd.to_datetime(result["end"], utc=True)
    target = path.replace(".parquet", "-bytewax-sliding.parquet")
    result.to_parquet(target)
    print(
        json.dumps(
            {"per_second": round(len(items) / seconds), "windows": len(rows), "output": target}
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
