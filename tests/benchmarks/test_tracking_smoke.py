"""The tracking benchmarks run end to end at tiny sizes, without MLflow, so they cannot rot.

Speed is not asserted here (benchmarks/tracking measures it); what is checked is that
each script runs, stores and finds every value, and reports its figures.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks" / "tracking"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tracking_{name}", FOLDER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(module: ModuleType, argv: list[str]) -> argparse.Namespace:
    """The script's own argument parsing, as its ``main`` would see ``argv``."""
    captured: dict[str, argparse.Namespace] = {}
    original = module.bench
    module.bench = lambda args: captured.setdefault("args", args)
    try:
        module.main(argv)
    finally:
        module.bench = original
    return captured["args"]


def test_the_logging_benchmark_stores_every_value() -> None:
    module = _script("bench_logging")
    args = _args(
        module,
        [
            "--no-peer",
            "--no-save",
            "--params",
            "3",
            "--metrics",
            "4",
            "--steps",
            "5",
            "--repeat",
            "2",
        ],
    )
    figures = module.bench(args)
    (mloop,) = figures["results"]
    assert mloop["label"] == "mloop fluent (SQLite)"
    assert mloop["values"] == mloop["stored_values"] == 3 + 4 * 5
    assert mloop["repeats"] == 4 and len(mloop["all_seconds"]) == 4  # twice a round
    assert 0 < mloop["calls_seconds"] <= mloop["seconds"]
    table = _script("report").logging_table(figures)
    assert "| mloop fluent (SQLite) 0.1.0 | 4 |" in table and "23 values" in table


def test_a_logging_worker_that_loses_values_fails_the_benchmark() -> None:
    module = _script("bench_logging")
    short = {
        "version": "x",
        "values": 23,
        "seconds": 1.0,
        "calls_seconds": 0.5,
        "stored_params": 3,
        "stored_metrics": 19,
    }
    with pytest.raises(SystemExit, match="22 of 23 values stored"):
        module._summary("mloop", [short])


def test_the_search_benchmark_finds_the_runs_computed_by_hand() -> None:
    module = _script("bench_search")
    figures = module.bench(
        _args(module, ["--no-peer", "--no-save", "--runs", "300", "--repeat", "1", "--top", "10"])
    )
    count, _ = module.expected(module.make_runs(300), 10)
    cases = {row["case"]: row for row in figures["results"]}
    assert set(cases) == {"top", "all", "top list", "all list"}
    assert cases["top"]["rows"] == cases["top list"]["rows"] == 10
    assert cases["all"]["rows"] == cases["all list"]["rows"] == count == figures["matching_runs"]
    assert all(row["median_seconds"] > 0 for row in cases.values())
    table = _script("report").search_table(figures)
    assert table.count("| mloop 0.1.0 |") == 4 and f"({count:,} match)" in table


def test_the_search_reference_orders_by_loss_among_matching_runs() -> None:
    module = _script("bench_search")
    runs = module.make_runs(50)
    count, names = module.expected(runs, 50)
    matching = [r for r in runs if r["metrics"]["acc"] > 0.5]
    assert count == len(matching) == len(names)
    losses = [next(r["metrics"]["loss"] for r in runs if r["name"] == n) for n in names]
    assert losses == sorted(losses)
    assert module.make_runs(50) == runs  # fixed seed: both tools get the same runs


def test_the_startup_benchmark_times_mloop() -> None:
    module = _script("bench_startup")
    figures = module.bench(_args(module, ["--no-peer", "--no-save", "--runs", "1"]))
    commands = {row["command"]: row for row in figures["results"]}
    assert set(commands) == {
        "python -c pass",
        "import mloop",
        "mloop --help",
        "import mloop.tracking",
        "first logged run (new store)",
        "first logged run (existing store)",
    }
    assert commands["import mloop"]["target_seconds"] == 0.3
    assert commands["mloop --help"]["target_seconds"] == 0.5
    assert all(row["median_seconds"] > 0 for row in commands.values())
    # the lazy `import mloop` loads nothing; the first run pays for the store
    first = commands["first logged run (new store)"]["median_cpu_seconds"]
    assert first > commands["import mloop"]["median_cpu_seconds"]
    table = _script("report").startup_table(figures)
    assert "| `mloop --help` | 1 |" in table and "< 0.5 s" in table
