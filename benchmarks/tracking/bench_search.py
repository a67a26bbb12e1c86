"""``search_runs`` over 10,000 runs: mloop against MLflow on SQLite, in the same run.

    .venv/bin/python benchmarks/tracking/bench_search.py             # 10,000 runs
    .venv/bin/python benchmarks/tracking/bench_search.py --runs 200 --no-peer

Both stores get the same runs (3 params, 3 metrics, 2 tags and a run-name tag each,
generated once with a fixed seed), loaded through each tool's fastest bulk path (not
measured). Then ``search_runs(filter_string="metrics.acc > 0.5",
order_by=["metrics.loss ASC"])`` is timed as a pandas DataFrame, for ``max_results=100``
and for every match, and as a list of runs (mloop's ``output_format="list"``,
``MlflowClient.search_runs``). The benchmark fails unless both tools return the same
number of runs with the same run names in the same order.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
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

FILTER = "metrics.acc > 0.5"
ORDER_BY = "metrics.loss ASC"
START = 1_700_000_000_000


def make_runs(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """The runs both tools store: names, params, one value per metric, tags."""
    rng = random.Random(seed)
    runs = []
    for index in range(count):
        runs.append(
            {
                "run_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "name": f"run-{index:05d}",
                "start_time": START + index * 1000,
                "params": {
                    "model": rng.choice(["rf", "gbm", "lr", "svm"]),
                    "depth": str(rng.randint(2, 12)),
                    "lr": str(round(rng.uniform(0.001, 0.3), 4)),
                },
                "metrics": {
                    "acc": rng.random(),
                    "loss": rng.random(),  # distinct: the order is fully determined
                    "f1": rng.random(),
                },
                "tags": {"team": rng.choice(["ops", "ml", "data"]), "kind": rng.choice(["a", "b"])},
            }
        )
    return runs


def populate(runs: list[dict[str, Any]]) -> str:
    """Load the runs into mloop's store with bulk inserts; return the experiment id."""
    from sqlalchemy import insert

    import mloop
    from mloop.store import get_artifacts, get_store
    from mloop.store.schema.tracking import LatestMetric, Param, Run, Tag

    experiment_id = mloop.set_experiment("bench-search").experiment_id
    artifacts = get_artifacts()
    run_rows, params, metrics, tags = [], [], [], []
    for run in runs:
        run_id = run["run_id"]
        run_rows.append(
            {
                "run_id": run_id,
                "experiment_id": int(experiment_id),
                "name": run["name"],
                "status": "FINISHED",
                "start_time": run["start_time"],
                "end_time": run["start_time"] + 1000,
                "heartbeat_at": run["start_time"] + 1000,
                "user": "bench",
                "artifact_uri": artifacts.uri(f"runs/{run_id}/artifacts"),
                "parent_run_id": None,
                "lifecycle_stage": "active",
            }
        )
        params += [{"run_id": run_id, "key": k, "value": v} for k, v in run["params"].items()]
        metrics += [
            {
                "run_id": run_id,
                "key": k,
                "value": v,
                "is_nan": False,
                "step": 0,
                "timestamp": run["start_time"],
            }
            for k, v in run["metrics"].items()
        ]
        tags += [{"run_id": run_id, "key": k, "value": v} for k, v in run["tags"].items()]
        tags.append({"run_id": run_id, "key": "mloop.runName", "value": run["name"]})

    def work(conn: Any) -> None:
        conn.execute(insert(Run), run_rows)
        conn.execute(insert(Param), params)
        conn.execute(insert(LatestMetric), metrics)
        conn.execute(insert(Tag), tags)

    store = get_store()
    store.transaction(work)
    if not store.is_sqlite:
        # what autovacuum does shortly after a bulk load; without statistics PostgreSQL
        # plans for empty tables (MLflow's SQLite store is not analysed either, nor ours)
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return experiment_id


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """mloop's half, in its own process: populate, then time the searches."""
    os.environ["MLOOP_HOME"] = str(Path(args.workdir) / ".mloop")
    if args.db_url:
        os.environ["MLOOP_DB_URL"] = args.db_url
    import mloop

    runs = json.loads(Path(args.data).read_text())
    started = time.perf_counter()
    experiment_id = populate(runs)
    results: dict[str, Any] = {
        "tool": "mloop",
        "version": mloop.__version__,
        "runs": len(runs),
        "populate_seconds": time.perf_counter() - started,
    }
    cases = [
        ("top", args.top, "pandas"),
        ("all", 100_000, "pandas"),
        ("top list", args.top, "list"),
        ("all list", 100_000, "list"),
    ]
    for label, max_results, output in cases:
        times = []
        found: Any = None
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = mloop.search_runs(
                experiment_ids=[experiment_id],
                filter_string=FILTER,
                order_by=[ORDER_BY],
                max_results=max_results,
                output_format=output,
            )
            times.append(time.perf_counter() - started)
        names = (
            found["tags.mloop.runName"].head(args.check).tolist()
            if output == "pandas"
            else [run.info.run_name for run in found[: args.check]]
        )
        results[label] = {
            "max_results": max_results,
            "median_seconds": median(times),
            "seconds": times,
            "rows": len(found),
            "first_names": names,
        }
    return results


def _mloop(args: argparse.Namespace, data: Path, db_url: str | None = None) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="mloop-bench-search-"))
    try:
        return run_json(
            [
                str(Path(__file__)),
                "worker",
                "--workdir",
                str(workdir),
                "--data",
                str(data),
                "--repeat",
                str(args.repeat),
                "--top",
                str(args.top),
                *(["--db-url", db_url] if db_url else []),
            ]
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _mlflow(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-bench-search-"))
    try:
        return run_peer(
            mlflow_python(),
            PEER_SCRIPT,
            [
                "search",
                "--workdir",
                str(workdir),
                "--data",
                str(data),
                "--filter",
                FILTER,
                "--order-by",
                ORDER_BY,
                "--repeat",
                str(args.repeat),
                "--top",
                str(args.top),
            ],
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def expected(runs: list[dict[str, Any]], limit: int) -> tuple[int, list[str]]:
    """The answer computed by hand: how many runs match and the first names in order."""
    matching = sorted(
        (r for r in runs if r["metrics"]["acc"] > 0.5), key=lambda r: r["metrics"]["loss"]
    )
    return len(matching), [r["name"] for r in matching[:limit]]


def bench(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-search-data-"))
    try:
        runs = make_runs(args.runs)
        data = folder / "runs.json"
        data.write_text(json.dumps(runs))
        count, first = expected(runs, 100)
        sides = {"mloop": _mloop(args, data)}
        if args.postgres:
            url, name = fresh_postgres(args.postgres)
            try:
                sides["mloop on PostgreSQL"] = _mloop(args, data, url)
            finally:
                drop_postgres(args.postgres, name)
        if not args.no_peer:
            sides["mlflow"] = _mlflow(args, data)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for tool, result in sides.items():
        for label in ("top", "all", "top list", "all list"):
            if label not in result:
                continue
            case = result[label]
            want = min(count, case["max_results"])
            if case["rows"] != want or case["first_names"] != first[: len(case["first_names"])]:
                raise SystemExit(
                    f"{tool} {label}: {case['rows']} rows, expected {want} in the order computed by hand"
                )
            rows.append(
                {
                    "side": tool,
                    "tool": f"{tool} {result['version']}",
                    "case": label,
                    "max_results": case["max_results"],
                    "rows": case["rows"],
                    "median_seconds": case["median_seconds"],
                }
            )
    for row in rows:
        ours = next(r for r in rows if r["side"] == "mloop" and r["case"] == row["case"])
        if row["side"] == "mlflow":
            row["mloop_faster"] = row["median_seconds"] / ours["median_seconds"]
    figures = {
        "benchmark": "tracking search_runs",
        "runs": args.runs,
        "filter_string": FILTER,
        "order_by": [ORDER_BY],
        "matching_runs": count,
        "repeats": args.repeat,
        "machine": machine(),
        "populate_seconds": {tool: result["populate_seconds"] for tool, result in sides.items()},
        "results": rows,
    }
    print_table(
        [
            [
                r["tool"],
                r["case"],
                r["rows"],
                f"{r['median_seconds'] * 1000:.1f}",
                f"{r['mloop_faster']:.1f}x" if "mloop_faster" in r else "",
            ]
            for r in rows
        ],
        ["tool", "case", "rows", "median ms", "mloop (SQLite) faster"],
    )
    if not args.no_save:
        print("saved", save("tracking_search", figures))
    return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--check", type=int, default=100)
    parser.add_argument("--no-peer", action="store_true", help="skip MLflow (smoke test)")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results")
    parser.add_argument(
        "--postgres", help="also measure mloop on this PostgreSQL server (admin URL)"
    )
    parser.add_argument("--db-url", help="(worker) mloop's metadata database")
    parser.add_argument("--workdir")
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    if args.command == "worker":
        print(json.dumps(worker(args)))
    else:
        bench(args)


if __name__ == "__main__":
    main(sys.argv[1:])
