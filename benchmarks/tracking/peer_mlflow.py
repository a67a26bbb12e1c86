"""MLflow's half of the tracking benchmarks; runs in ``benchmarks/.venv-mlflow``.

    python peer_mlflow.py log --workdir DIR --params 50 --metrics 100 --steps 100 --mode fluent
    python peer_mlflow.py search --workdir DIR --data runs.json --repeat 5

MLflow uses its SQLite store (``sqlite:///DIR/mlflow.db``) and a local artifact folder.
Prints one JSON object on its last line (read by ``peer_env.run_peer``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

logging.disable(logging.WARNING)  # MLflow's INFO lines would mix with the JSON output


def _mlflow(workdir: Path) -> Any:
    import mlflow

    workdir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    return mlflow


def _experiment(mlflow: Any, workdir: Path, name: str) -> str:
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    return str(mlflow.create_experiment(name, artifact_location=(workdir / "artifacts").as_uri()))


def _count(workdir: Path, table: str, run_id: str) -> int:
    with sqlite3.connect(workdir / "mlflow.db") as conn:
        return int(
            conn.execute(f"SELECT count(*) FROM {table} WHERE run_uuid = ?", (run_id,)).fetchone()[
                0
            ]
        )


def log(args: argparse.Namespace) -> dict[str, Any]:
    """One run, every value logged as in a training loop; timed until end_run returns."""
    workdir = Path(args.workdir)
    mlflow = _mlflow(workdir)
    experiment_id = _experiment(mlflow, workdir, "bench-logging")
    params = [(f"param_{i}", f"value-{i}") for i in range(args.params)]
    keys = [f"metric_{k}" for k in range(args.metrics)]
    if args.mode == "fluent-async":
        mlflow.config.enable_async_logging(True)
    run = mlflow.start_run(experiment_id=experiment_id)
    run_id = run.info.run_id
    started = time.perf_counter()
    if args.mode in ("fluent", "fluent-async"):
        synchronous = args.mode == "fluent"
        for key, value in params:
            mlflow.log_param(key, value, synchronous=synchronous)
        for step in range(args.steps):
            for index, key in enumerate(keys):
                mlflow.log_metric(key, step * 0.001 + index, step=step, synchronous=synchronous)
    elif args.mode == "batch":
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient

        client = MlflowClient()
        client.log_batch(run_id, params=[Param(k, v) for k, v in params])
        now = int(time.time() * 1000)
        metrics = [
            Metric(key, step * 0.001 + index, now, step)
            for step in range(args.steps)
            for index, key in enumerate(keys)
        ]
        for start in range(0, len(metrics), 1000):  # MLflow's limit per log_batch call
            client.log_batch(run_id, metrics=metrics[start : start + 1000])
    else:
        raise SystemExit(f"unknown mode {args.mode!r}")
    calls = time.perf_counter() - started
    mlflow.end_run()
    total = time.perf_counter() - started
    return {
        "tool": "mlflow",
        "version": mlflow.__version__,
        "mode": args.mode,
        "values": args.params + args.metrics * args.steps,
        "calls_seconds": calls,
        "seconds": total,
        "stored_params": _count(workdir, "params", run_id),
        "stored_metrics": _count(workdir, "metrics", run_id),
    }


# -- search ----------------------------------------------------------------------------


def _populate(workdir: Path, experiment_id: str, runs: list[dict[str, Any]]) -> None:
    """Insert the runs straight into MLflow's SQLite tables (its fastest bulk path).

    Going through ``MlflowClient.create_run`` + ``log_batch`` would take tens of minutes
    for 10,000 runs; what is measured is the search, and the benchmark checks that
    MLflow's own ``search_runs`` sees every run.
    """
    artifacts = (workdir / "artifacts").as_uri()
    run_rows, param_rows, metric_rows, latest_rows, tag_rows = [], [], [], [], []
    for run in runs:
        run_id = run["run_id"]
        run_rows.append(
            (
                run_id,
                run["name"],
                "LOCAL",
                "bench",
                "",
                "bench",
                "FINISHED",
                run["start_time"],
                run["start_time"] + 1000,
                "",
                "active",
                f"{artifacts}/{run_id}/artifacts",
                int(experiment_id),
            )
        )
        param_rows += [(key, value, run_id) for key, value in run["params"].items()]
        for key, value in run["metrics"].items():
            metric_rows.append((key, value, run["start_time"], run_id, 0, 0))
            latest_rows.append((key, value, run["start_time"], 0, 0, run_id))
        tag_rows += [(key, value, run_id) for key, value in run["tags"].items()]
        tag_rows.append(("mlflow.runName", run["name"], run_id))
    with sqlite3.connect(workdir / "mlflow.db") as conn:
        conn.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
            "artifact_uri, experiment_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            run_rows,
        )
        conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", param_rows)
        conn.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES (?,?,?,?,?,?)",
            metric_rows,
        )
        conn.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?,?,?,?,?,?)",
            latest_rows,
        )
        conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tag_rows)


def search(args: argparse.Namespace) -> dict[str, Any]:
    """Time ``mlflow.search_runs`` (a DataFrame) with a metric filter and an order."""
    workdir = Path(args.workdir)
    mlflow = _mlflow(workdir)
    runs = json.loads(Path(args.data).read_text())
    experiment_id = _experiment(mlflow, workdir, "bench-search")
    started = time.perf_counter()
    _populate(workdir, experiment_id, runs)
    populate = time.perf_counter() - started
    results: dict[str, Any] = {
        "tool": "mlflow",
        "version": mlflow.__version__,
        "runs": len(runs),
        "populate_seconds": populate,
    }
    from mlflow.tracking import MlflowClient

    client = MlflowClient()

    def as_frame(max_results: int) -> list[str]:
        frame = mlflow.search_runs(
            experiment_ids=[experiment_id],
            filter_string=args.filter,
            order_by=[args.order_by],
            max_results=max_results,
        )
        return list(frame["tags.mlflow.runName"])

    def as_list(max_results: int) -> list[str]:
        found: list[Any] = []
        token = None
        while len(found) < max_results:  # pages of at most 50,000 runs, MLflow's limit
            page = client.search_runs(
                [experiment_id],
                filter_string=args.filter,
                order_by=[args.order_by],
                max_results=min(50_000, max_results - len(found)),
                page_token=token,
            )
            found.extend(page)
            token = page.token
            if not token:
                break
        return [run.info.run_name for run in found]

    cases = (
        ("top", args.top, as_frame),
        ("all", 100_000, as_frame),
        ("top list", args.top, as_list),
        ("all list", 100_000, as_list),
    )
    for label, max_results, search_once in cases:
        times = []
        names: list[str] = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            names = search_once(max_results)
            times.append(time.perf_counter() - started)
        results[label] = {
            "max_results": max_results,
            "median_seconds": statistics.median(times),
            "seconds": times,
            "rows": len(names),
            "first_names": names[: args.check],
        }
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    log_parser = commands.add_parser("log")
    log_parser.add_argument("--workdir", required=True)
    log_parser.add_argument("--params", type=int, default=50)
    log_parser.add_argument("--metrics", type=int, default=100)
    log_parser.add_argument("--steps", type=int, default=100)
    log_parser.add_argument("--mode", default="fluent")
    search_parser = commands.add_parser("search")
    search_parser.add_argument("--workdir", required=True)
    search_parser.add_argument("--data", required=True)
    search_parser.add_argument("--filter", required=True)
    search_parser.add_argument("--order-by", required=True)
    search_parser.add_argument("--top", type=int, default=100)
    search_parser.add_argument("--repeat", type=int, default=5)
    search_parser.add_argument("--check", type=int, default=100)
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    result = log(args) if args.command == "log" else search(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
