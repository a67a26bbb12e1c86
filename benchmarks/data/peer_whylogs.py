"""whylogs' half of the profile benchmark; runs in ``benchmarks/.venv-whylogs``.

    python peer_whylogs.py DATA.parquet --repeat 5

whylogs' default profile of the DataFrame (counts, types, KLL distribution, cardinality
HLL, frequent items). Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time

logging.disable(logging.WARNING)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    import pandas as pd
    import whylogs

    imported = time.perf_counter() - start
    frame = pd.read_parquet(args.data)
    whylogs.log(frame.head(1000))  # warm-up
    times, cpu = [], []
    for _ in range(args.repeat):
        start, clock = time.perf_counter(), time.process_time()
        view = whylogs.log(frame).view()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
    size = len(view.serialize())
    print(
        json.dumps(
            {
                "tool": "whylogs",
                "version": whylogs.__version__,
                "pandas": pd.__version__,
                "import_s": imported,
                "profile_s": statistics.median(times),
                "profile_all_s": times,
                "profile_cpu_s": statistics.median(cpu),
                "serialized_bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main()
