"""Data checks: mloop vs hand-written pandas, pandera and Great Expectations, in one run.

    .venv/bin/python benchmarks/data/bench_checks.py                 # 1,000,000 x 20, peers included
    .venv/bin/python benchmarks/data/bench_checks.py --rows 20000 --no-peers

The same Parquet file (see ``spec.py``) is read by every tool. Measured, as medians of
``--repeat`` runs: the validation itself (a DataFrame in memory, 10 checks, failing rows
counted and sampled), and once per tool the whole process (interpreter start, import,
read, validate). Every tool's failing-row counts are compared with the plain reference.

Per check type, the same run also times a suite of only that type's checks against
counting the same failures with pandas by hand (``isna().sum()``, a range mask's
``sum()``, ``notna() & ~isin()``, ``duplicated(keep=False).sum()``): wall and CPU time,
the two alternating. mloop still gives the failing rows (positions, index, 20 samples).
Writes ``benchmarks/results/data_checks.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

PEERS = {
    "pandera": (["pandera[pandas]==0.*", "pyarrow"], "peer_pandera.py"),
    "gx": (["great_expectations==1.*", "pyarrow"], "peer_gx.py"),
}


def mloop_suite() -> Any:
    import spec

    from mloop.data import Suite, checks

    rules = [checks.not_null(c) for c in spec.NOT_NULL]
    rules += [checks.between(c, low, high) for c, (low, high) in spec.RANGES.items()]
    rules.append(checks.in_set(spec.IN_SET[0], spec.IN_SET[1]))
    rules.append(checks.unique(spec.UNIQUE))
    return Suite("bench", rules)


def pandas_by_hand(frame: Any) -> dict[str, Any]:
    """What a careful person writes without a library: one vectorised mask per check,
    failing counts, 20 sample rows and the failing index."""
    import spec

    masks = {f"not_null({c})": frame[c].isna() for c in spec.NOT_NULL}
    for column, (low, high) in spec.RANGES.items():
        masks[f"between({column})"] = (frame[column] < low) | (frame[column] > high)
    column, allowed = spec.IN_SET
    masks[f"in_set({column})"] = frame[column].notna() & ~frame[column].isin(allowed)
    masks[f"unique({spec.UNIQUE})"] = frame[spec.UNIQUE].duplicated(keep=False)
    report = {}
    for name, mask in masks.items():
        failing = frame.index[mask.to_numpy()]
        report[name] = {
            "failed": len(failing),
            "samples": frame.loc[failing[:20]],
            "index": failing,
        }
    return report


def counting_by_hand(frame: Any, kind: str) -> dict[str, int]:
    """The failing-row counts of one check type, as a person counts them with pandas."""
    import spec

    if kind == "not_null":
        return {f"not_null({c})": int(frame[c].isna().sum()) for c in spec.NOT_NULL}
    if kind == "between":
        return {
            f"between({c})": int(((frame[c] < low) | (frame[c] > high)).sum())
            for c, (low, high) in spec.RANGES.items()
        }
    if kind == "in_set":
        column, allowed = spec.IN_SET
        return {
            f"in_set({column})": int((frame[column].notna() & ~frame[column].isin(allowed)).sum())
        }
    return {f"unique({spec.UNIQUE})": int(frame[spec.UNIQUE].duplicated(keep=False).sum())}


CHECK_TYPES = ("not_null", "between", "in_set", "unique")


def per_check_type(frame: Any, repeat: int) -> dict[str, Any]:
    """Each check type alone: mloop's suite of it vs counting by hand, alternating."""
    from mloop.data import Suite

    figures: dict[str, Any] = {}
    everything = mloop_suite()
    for kind in CHECK_TYPES:
        suite = Suite(kind, [c for c in everything.checks if c.kind == kind])
        suite.validate(frame, save=False)  # warm-up
        mine: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        for _ in range(repeat):
            seconds, _, result, cpu = _median_time(lambda s=suite: s.validate(frame, save=False), 1)
            mine.append((seconds, cpu))
            seconds, _, counted, cpu = _median_time(lambda k=kind: counting_by_hand(frame, k), 1)
            theirs.append((seconds, cpu))
        found = {c.name: c.failed_count for c in result.checks}
        assert found == counted, (found, counted)
        assert all(len(c.failing_index) == c.failed_count for c in result.checks)
        figures[kind] = {
            "checks": len(suite.checks),
            "mloop_s": statistics.median(t for t, _ in mine),
            "mloop_cpu_s": statistics.median(c for _, c in mine),
            "pandas_s": statistics.median(t for t, _ in theirs),
            "pandas_cpu_s": statistics.median(c for _, c in theirs),
        }
    return figures


def _median_time(work: Any, repeat: int) -> tuple[float, list[float], Any, float]:
    """Median wall time, every wall time, the last result, and the median CPU time."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, clock = time.perf_counter(), time.process_time()
        result = work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
    return statistics.median(times), times, result, statistics.median(cpu)


def process_mode(path: str, full_read: bool = False) -> None:
    """The whole mloop process: import, then validate the file; run by main.

    mloop reads only the checked columns of a file; ``full_read`` reads the whole file
    with pandas first, as the peers do.
    """
    start = time.perf_counter()
    import mloop.data  # noqa: F401

    imported = time.perf_counter() - start
    start = time.perf_counter()
    if full_read:
        import pandas as pd

        result = mloop_suite().validate(pd.read_parquet(path), save=False)
    else:
        result = mloop_suite().validate(path, save=False)
    validate = time.perf_counter() - start
    failed = {c.name: c.failed_count for c in result.checks}
    print(json.dumps({"import_s": imported, "read_and_validate_s": validate, "failures": failed}))


def _whole_process(command: list[str]) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    return wall, json.loads([line for line in done.stdout.splitlines() if line.strip()][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-save", action="store_true", help="Print only (for smoke tests).")
    parser.add_argument(
        "--rounds", type=int, default=1, help="Alternate the tools this many times."
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--process", help=argparse.SUPPRESS)
    parser.add_argument("--full-read", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.process:
        process_mode(args.process, args.full_read)
        return
    folder = Path(tempfile.mkdtemp(prefix="mloop-bench-checks-"))
    try:
        _run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path) -> None:
    import pandas as pd
    import spec
    from peer_env import peer_python, save

    os.environ["MLOOP_HOME"] = str(folder / ".mloop")
    path = folder / "data.parquet"
    spec.make(args.rows).to_parquet(path, index=False)
    frame = pd.read_parquet(path)
    expected = spec.expected_failures(frame)
    suite = mloop_suite()
    suite.validate(frame, save=False)  # warm-up: lazy imports
    suite.validate(frame)  # and the metadata store
    pythons = (
        {} if args.no_peers else {name: peer_python(name, req) for name, (req, _) in PEERS.items()}
    )
    rounds: list[dict[str, Any]] = []
    for _ in range(args.rounds):  # tools alternate, so a change of machine load hits them alike
        rounds.append(_round(suite, frame, path, expected, pythons, args.repeat))
    figures: dict[str, Any] = {"rows": len(frame), "columns": frame.shape[1], "checks": 10}
    figures["load_average"] = os.getloadavg()
    figures["rounds"] = args.rounds
    types = [per_check_type(frame, args.repeat) for _ in range(args.rounds)]
    figures["per_check_type"] = {
        kind: {
            key: statistics.median(t[kind][key] for t in types) if key != "checks" else value
            for key, value in types[0][kind].items()
        }
        for kind in CHECK_TYPES
    }
    figures["load_average_end"] = os.getloadavg()
    for name in rounds[0]:
        merged = dict(rounds[-1][name])
        for key in (
            "validate_s",
            "validate_cpu_s",
            "process_s",
            "process_full_read_s",
            "validate_and_store_s",
        ):
            if key in merged:
                merged[key] = statistics.median(r[name][key] for r in rounds)
        merged["validate_all_s"] = [t for r in rounds for t in r[name]["validate_all_s"]]
        figures[name] = merged
    figures["pandas"]["version"] = pd.__version__
    _report(figures)
    if not args.no_save:  # without the peers, the full file's peer figures are kept
        name = "data_checks" if pythons else "data_checks_mloop_pandas"
        print(f"written to {save(name, figures)}")


def _round(
    suite: Any,
    frame: Any,
    path: Path,
    expected: dict[str, int],
    pythons: dict[str, Path],
    repeat: int,
) -> dict[str, Any]:
    from peer_env import run_peer

    figures: dict[str, Any] = {}
    seconds, runs, result, cpu = _median_time(lambda: suite.validate(frame, save=False), repeat)
    found = {c.name: c.failed_count for c in result.checks}
    assert found == expected, (found, expected)
    figures["mloop"] = {
        "validate_s": seconds,
        "validate_all_s": runs,
        "validate_cpu_s": cpu,
        "failures": found,
    }
    seconds, _, _, _ = _median_time(lambda: suite.validate(frame), repeat)
    figures["mloop"]["validate_and_store_s"] = seconds
    seconds, runs, by_hand, cpu = _median_time(lambda: pandas_by_hand(frame), repeat)
    assert {k: v["failed"] for k, v in by_hand.items()} == expected
    figures["pandas"] = {"validate_s": seconds, "validate_all_s": runs, "validate_cpu_s": cpu}
    wall, inner = _whole_process([sys.executable, __file__, "--process", str(path)])
    figures["mloop"]["process_s"] = wall
    figures["mloop"]["process_parts"] = inner
    command = [sys.executable, __file__, "--process", str(path), "--full-read"]
    figures["mloop"]["process_full_read_s"], _ = _whole_process(command)
    for name, python in pythons.items():
        script = HERE / PEERS[name][1]
        peer = run_peer(python, script, [str(path), "--repeat", str(repeat)])
        peer["process_s"], _ = _whole_process(
            [str(python), str(script), str(path), "--repeat", "1"]
        )
        peer["agrees_with_reference"] = sorted(peer["failures"].values()) == sorted(
            expected.values()
        )
        figures[name] = peer
    return figures


def _report(figures: dict[str, Any]) -> None:
    mloop = figures["mloop"]["validate_s"]
    print(f"{figures['rows']:,} rows x {figures['columns']} columns, {figures['checks']} checks")
    cpu = figures["mloop"]["validate_cpu_s"]
    print(
        f"{'tool':<12}{'validate s':>12}{'vs mloop':>10}{'cpu s':>9}{'vs mloop':>10}{'process s':>12}{'vs mloop':>10}"
    )
    for name in ("mloop", "pandas", "pandera", "gx"):
        if name not in figures:
            continue
        entry = figures[name]
        process = entry.get("process_s")
        line = f"{name:<12}{entry['validate_s']:>12.3f}{entry['validate_s'] / mloop:>9.1f}x"
        line += f"{entry['validate_cpu_s']:>9.3f}{entry['validate_cpu_s'] / cpu:>9.1f}x"
        if process is not None:
            line += f"{process:>12.2f}{process / figures['mloop']['process_s']:>9.1f}x"
        print(line)
    print(f"mloop validate + store the result: {figures['mloop']['validate_and_store_s']:.3f} s")
    print(
        f"mloop process reading the whole file with pandas: {figures['mloop']['process_full_read_s']:.2f} s"
    )
    print("per check type: mloop (failing rows, index, samples) vs counting with pandas by hand")
    print(
        f"{'check type':<12}{'checks':>7}{'mloop s':>10}{'pandas s':>10}{'ratio':>8}"
        f"{'mloop cpu':>11}{'pandas cpu':>12}{'ratio':>8}"
    )
    for kind, entry in figures["per_check_type"].items():
        print(
            f"{kind:<12}{entry['checks']:>7}{entry['mloop_s']:>10.4f}{entry['pandas_s']:>10.4f}"
            f"{entry['mloop_s'] / entry['pandas_s']:>7.2f}x{entry['mloop_cpu_s']:>11.4f}"
            f"{entry['pandas_cpu_s']:>12.4f}{entry['mloop_cpu_s'] / entry['pandas_cpu_s']:>7.2f}x"
        )


if __name__ == "__main__":
    main()
