"""Logging one run, one call per value: mloop against MLflow on SQLite, in the same run.

    .venv/bin/python benchmarks/tracking/bench_logging.py            # 50 params, 100 x 100 metrics
    .venv/bin/python benchmarks/tracking/bench_logging.py --postgres postgresql+psycopg://...

Each repetition is a fresh process and a fresh store. The clock starts at the first
``log_param`` (after ``start_run``) and stops when ``end_run`` has returned, that is when
every value is committed; "calls" is the time until the last logging call returned.
Each side then counts its stored rows through a new database connection, and the
benchmark fails if a single value is missing.

MLflow (its own venv, ``sqlite:///.../mlflow.db``, local artifacts) is measured with the
fluent API (one synchronous call per value), with the fluent API in its asynchronous
mode, and with ``MlflowClient.log_batch`` (1,000 values per call, its limit).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tracking_bench import (  # noqa: E402
    PEER_SCRIPT,
    drop_postgres,
    fresh_postgres,
    machine,
    median,
    mlflow_python,
    print_table,
    run_json,
    run_peer,
    save,
)


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """mloop's half, in its own process: log, end the run, count what was stored."""
    os.environ["MLOOP_HOME"] = str(Path(args.workdir) / ".mloop")
    if args.db_url:
        os.environ["MLOOP_DB_URL"] = args.db_url
    import mloop

    mloop.set_experiment("bench-logging")
    params = [(f"param_{i}", f"value-{i}") for i in range(args.params)]
    keys = [f"metric_{k}" for k in range(args.metrics)]
    run = mloop.start_run()
    run_id = run.info.run_id
    log_param, log_metric = mloop.log_param, mloop.log_metric
    started = time.perf_counter()
    for key, value in params:
        log_param(key, value)
    for step in range(args.steps):
        for index, key in enumerate(keys):
            log_metric(key, step * 0.001 + index, step=step)
    calls = time.perf_counter() - started
    mloop.end_run()
    total = time.perf_counter() - started
    stored = _count_rows(mloop.tracking.TrackingClient().store.url, run_id)
    return {
        "tool": "mloop",
        "version": mloop.__version__,
        "mode": "fluent",
        "backend": "postgresql" if args.db_url else "sqlite",
        "values": args.params + args.metrics * args.steps,
        "calls_seconds": calls,
        "seconds": total,
        **stored,
    }


def _count_rows(url: str, run_id: str) -> dict[str, int]:
    """Rows of the run as a new connection sees them (committed, not buffered)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            count = "SELECT count(*) FROM {} WHERE run_id = :run"
            return {
                "stored_params": conn.execute(
                    text(count.format("params")), {"run": run_id}
                ).scalar_one(),
                "stored_metrics": conn.execute(  # history values, packed in chunks
                    text("SELECT coalesce(sum(count), 0) FROM metric_chunks WHERE run_id = :run"),
                    {"run": run_id},
                ).scalar_one(),
            }
    finally:
        engine.dispose()


def _sizes(args: argparse.Namespace) -> list[str]:
    return [
        "--params",
        str(args.params),
        "--metrics",
        str(args.metrics),
        "--steps",
        str(args.steps),
    ]


def _mloop(args: argparse.Namespace, db_url: str | None) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="mloop-bench-log-"))
    try:
        command = [str(Path(__file__)), "worker", "--workdir", str(workdir), *_sizes(args)]
        if db_url:
            command += ["--db-url", db_url]
        return run_json(command)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _mlflow(args: argparse.Namespace, python: Path, mode: str) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-bench-log-"))
    try:
        return run_peer(
            python, PEER_SCRIPT, ["log", "--workdir", str(workdir), "--mode", mode, *_sizes(args)]
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _summary(label: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    expected = results[0]["values"]
    for result in results:
        stored = result["stored_params"] + result["stored_metrics"]
        if stored != expected:
            raise SystemExit(f"{label}: {stored} of {expected} values stored")
    return {
        "label": label,
        "version": results[0]["version"],
        "repeats": len(results),
        "values": expected,
        "seconds": median([r["seconds"] for r in results]),
        "calls_seconds": median([r["calls_seconds"] for r in results]),
        "all_seconds": [round(r["seconds"], 4) for r in results],
        "stored_values": expected,
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Rounds in which mloop runs before and after MLflow, so both meet the same load."""
    python = None if args.no_peer else mlflow_python()
    ours = "mloop fluent (SQLite)"
    runs: dict[str, list[dict[str, Any]]] = {ours: []}
    if args.postgres:
        runs["mloop fluent (PostgreSQL)"] = []
    peers = [
        ("batch", "MLflow MlflowClient.log_batch", args.repeat),
        ("fluent-async", "MLflow fluent, async logging", args.peer_repeat),
        ("fluent", "MLflow fluent", args.peer_repeat),
    ]
    if python is not None:
        runs.update({label: [] for _, label, _ in peers})
    for round_ in range(args.repeat):
        runs[ours].append(_mloop(args, None))
        if args.postgres:
            url, name = fresh_postgres(args.postgres)
            try:
                runs["mloop fluent (PostgreSQL)"].append(_mloop(args, url))
            finally:
                drop_postgres(args.postgres, name)
        if python is not None:
            for mode, label, repeats in peers:
                if round_ < repeats:
                    runs[label].append(_mlflow(args, python, mode))
        runs[ours].append(_mloop(args, None))
    rows = [_summary(label, results) for label, results in runs.items()]
    mloop_seconds = rows[0]["seconds"]
    for row in rows:
        row["values_per_second"] = row["values"] / row["seconds"]
        row["mloop_faster"] = row["seconds"] / mloop_seconds
    figures = {
        "benchmark": "tracking logging",
        "sizes": {"params": args.params, "metrics": args.metrics, "steps": args.steps},
        "machine": machine(),
        "results": rows,
    }
    print_table(
        [
            [
                r["label"],
                r["repeats"],
                f"{r['calls_seconds']:.4f}",
                f"{r['seconds']:.4f}",
                f"{r['values_per_second']:,.0f}",
                f"{r['mloop_faster']:,.1f}x",
            ]
            for r in rows
        ],
        ["tool", "runs", "calls s", "until stored s", "values/s", "mloop faster"],
    )
    if not args.no_save:
        print("saved", save("tracking_logging", figures))
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--params", type=int, default=50)
    parser.add_argument("--metrics", type=int, default=100)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument(
        "--repeat", type=int, default=5, help="rounds (mloop runs twice a round, log_batch once)"
    )
    parser.add_argument(
        "--peer-repeat", type=int, default=1, help="runs of MLflow's fluent modes (slow)"
    )
    parser.add_argument(
        "--postgres", help="also measure mloop on this PostgreSQL server (admin URL)"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip MLflow (smoke test)")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results")
    parser.add_argument("--workdir")
    parser.add_argument("--db-url")
    args = parser.parse_args(argv)
    if args.command == "worker":
        import json

        print(json.dumps(worker(args)))
    else:
        bench(args)


if __name__ == "__main__":
    main(sys.argv[1:])
