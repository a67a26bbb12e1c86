"""Bytewax's half of bench_windows.py (runs in benchmarks/.venv-bytewax).

Per account, ``stateful_map`` keeps the (time, amount) of the last 10 minutes and gives
each event the count and sum of the earlier ones in ``[t - 10 min, t)``.
Prints one JSON line: the rate and the Parquet file of the results.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from datetime import timedelta

import pandas as pd
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, run_main

WINDOW = timedelta(minutes=10)


def main(path: str) -> None:
    frame = pd.read_parquet(path)
    items = list(
        zip(
            frame["account"],
            frame["ts"].dt.to_pydatetime(),
            frame["amount"],
            frame["request_id"],
            strict=True,
        )
    )
    out: list = []

    def window(state: deque | None, event: tuple) -> tuple[deque, tuple]:
        state = state if state is not None else deque()
        ts, amount, rid = event
        while state and state[0][0] < ts - WINDOW:
            state.popleft()
        count = total = 0
        for t, a in state:
            if t < ts:
                count += 1
                total += a
        state.append((ts, amount))
        return state, (rid, count, total)

    flow = Dataflow("windows")
    stream = op.input("in", flow, TestingSource(items, batch_size=1_000))
    keyed = op.map("key", stream, lambda e: (e[0], (e[1], e[2], e[3])))
    counted = op.stateful_map("window", keyed, window)
    op.output("out", counted, TestingSink(out))
    started = time.perf_counter()
    run_main(flow)
    seconds = time.perf_counter() - started
    result = pd.DataFrame([v for _, v in out], columns=["request_id", "count", "sum"])
    target = path.replace(".parquet", "-bytewax.parquet")
    result.to_parquet(target)
    print(json.dumps({"per_second": round(len(items) / seconds), "output": target}))


if __name__ == "__main__":
    main(sys.argv[1])
