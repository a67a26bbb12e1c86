"""pandera's half of the data-check benchmark; runs in ``benchmarks/.venv-pandera``.

    python peer_pandera.py DATA.parquet --repeat 5

Prints one JSON object on its last line: import, read and validation times, the number
of failing rows per check (from pandera's failure cases) and the version.
"""

from __future__ import annotations

import time

started = time.perf_counter()
import pandera.pandas as pa  # noqa: E402

imported = time.perf_counter() - started

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import spec  # noqa: E402


def schema() -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {}
    for name in spec.NOT_NULL:
        columns[name] = pa.Column(float, nullable=False)
    for name, (low, high) in spec.RANGES.items():
        columns[name] = pa.Column(checks=pa.Check.in_range(low, high), nullable=True)
    name, allowed = spec.IN_SET
    columns[name] = pa.Column(checks=pa.Check.isin(allowed), nullable=True)
    columns[spec.UNIQUE] = pa.Column(int, unique=True, nullable=True)
    return pa.DataFrameSchema(columns, strict=False)


def validate(frame: pd.DataFrame, checks: pa.DataFrameSchema) -> dict[str, int]:
    try:
        checks.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        rows = cases.dropna(subset=["index"]).groupby(["column", "check"])["index"].nunique()
        return {f"{column}:{check}": int(n) for (column, check), n in rows.items()}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    frame = pd.read_parquet(args.data)
    read = time.perf_counter() - start
    checks = schema()
    times, cpu, failures = [], [], {}
    for _ in range(args.repeat):
        start, clock = time.perf_counter(), time.process_time()
        failures = validate(frame, checks)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
    print(
        json.dumps(
            {
                "tool": "pandera",
                "version": version("pandera"),
                "pandas": pd.__version__,
                "import_s": imported,
                "read_s": read,
                "validate_s": sorted(times)[len(times) // 2],
                "validate_all_s": times,
                "validate_cpu_s": sorted(cpu)[len(cpu) // 2],
                "failures": failures,
            }
        )
    )


if __name__ == "__main__":
    main()
