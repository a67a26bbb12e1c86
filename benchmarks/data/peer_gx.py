"""Great Expectations' half of the data-check benchmark; runs in ``benchmarks/.venv-gx``.

    python peer_gx.py DATA.parquet --repeat 5

An ephemeral context, a pandas data source over the DataFrame and a suite of the same 10
expectations (default result format: counts and up to 20 unexpected values each).
Prints one JSON object on its last line.
"""

from __future__ import annotations

import time

started = time.perf_counter()
import great_expectations as gx  # noqa: E402

imported = time.perf_counter() - started

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import spec  # noqa: E402

logging.disable(logging.WARNING)


def suite() -> gx.ExpectationSuite:
    checks = gx.ExpectationSuite(name="bench")
    for name in spec.NOT_NULL:
        checks.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=name))
    for name, (low, high) in spec.RANGES.items():
        checks.add_expectation(
            gx.expectations.ExpectColumnValuesToBeBetween(
                column=name, min_value=low, max_value=high
            )
        )
    name, allowed = spec.IN_SET
    checks.add_expectation(
        gx.expectations.ExpectColumnValuesToBeInSet(column=name, value_set=allowed)
    )
    checks.add_expectation(gx.expectations.ExpectColumnValuesToBeUnique(column=spec.UNIQUE))
    return checks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    frame = pd.read_parquet(args.data)
    read = time.perf_counter() - start
    start = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_pandas("bench")
    asset = source.add_dataframe_asset("frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("all")
    checks = context.suites.add(suite())
    setup = time.perf_counter() - start
    times, cpu, failures = [], [], {}
    for _ in range(args.repeat):
        start, clock = time.perf_counter(), time.process_time()
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(checks)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
        failures = {
            f"{r.expectation_config.type}:{r.expectation_config.kwargs['column']}": int(
                r.result.get("unexpected_count", 0) or 0
            )
            for r in result.results
        }
    print(
        json.dumps(
            {
                "tool": "great_expectations",
                "version": gx.__version__,
                "pandas": pd.__version__,
                "import_s": imported,
                "read_s": read,
                "setup_s": setup,
                "validate_s": sorted(times)[len(times) // 2],
                "validate_all_s": times,
                "validate_cpu_s": sorted(cpu)[len(cpu) // 2],
                "failures": failures,
            }
        )
    )


if __name__ == "__main__":
    main()
