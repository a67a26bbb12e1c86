"""Per-call time of ``CompiledTransform.answer`` on 1-row and 32-row batches (no server).

A regression check for the compiled serving path without the HTTP stack's noise: run it
with two source trees in turns and compare (BENCHMARKS.md, "Architecture sweep").

    PYTHONPATH=src .venv/bin/python benchmarks/serving/bench_compiled_calls.py [--calls N]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mloop.serving.compiled import CompiledTransform

rng = np.random.default_rng(0)
n = 5000
df = pd.DataFrame(
    {
        "distance": rng.normal(1000, 300, n),
        "hour": rng.integers(5, 23, n),
        "carrier": rng.choice(["AA", "B6", "DL", "UA", "WN"], n).astype(object),
        "origin": rng.choice(["EWR", "JFK", "LGA"], n).astype(object),
    }
)
y = (df.distance > 1000).astype(int)
pipe = make_pipeline(
    ColumnTransformer(
        [
            ("c", OneHotEncoder(handle_unknown="ignore"), ["carrier", "origin"]),
            ("n", StandardScaler(), ["distance", "hour"]),
        ],
        sparse_threshold=1.0,
    ),
    LogisticRegression(),
)
pipe.fit(df, y)
fast = CompiledTransform.of(pipe[:-1], df.head(5), final=pipe[-1])
assert fast is not None
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--calls", type=int, default=20000)
args = parser.parse_args()
out = {}
for rows in (1, 32):
    cols = df.head(rows)
    assert fast.answer(cols) is not None
    calls = args.calls if rows == 1 else max(args.calls // 4, 1)
    best = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(calls):
            fast.answer(cols)
        best.append((time.perf_counter() - t) / calls * 1e6)
    out[f"answer_{rows}_rows_us"] = round(min(best), 2)
print(json.dumps(out))
