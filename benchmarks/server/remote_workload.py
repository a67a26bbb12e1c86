"""One client's workload against a tracking server, for mloop or MLflow (same script).

    python remote_workload.py --tool mloop --uri http://127.0.0.1:5000 log --params 10 ...

Run with mloop's interpreter for ``--tool mloop`` and the peer venv's for ``--tool mlflow``.
Both use their fluent API exactly as a training script would, one call per value.
Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from typing import Any

logging.disable(logging.WARNING)


def _api(tool: str, uri: str) -> Any:
    if tool == "mlflow":
        os.environ["MLFLOW_TRACKING_URI"] = uri
        import mlflow

        return mlflow
    os.environ["MLOOP_TRACKING_URI"] = uri
    import mloop

    return mloop


def _start(api: Any, tool: str) -> Any:
    if tool == "mloop":
        return api.start_run(log_system_info=False)
    return api.start_run()


def log(api: Any, tool: str, args: argparse.Namespace) -> dict[str, Any]:
    """One run: params and metrics × steps, one call per value; then another client reads."""
    api.set_experiment(f"bench-log-{args.tag}")
    started = time.perf_counter()
    with _start(api, tool) as run:
        for i in range(args.params):
            api.log_param(f"param_{i}", f"value-{i}")
        for step in range(args.steps):
            for k in range(args.metrics):
                api.log_metric(f"metric_{k}", step * 0.5 + k, step=step)
    logged = time.perf_counter() - started
    values = args.params + args.metrics * args.steps
    return {
        "values": values,
        "seconds": logged,
        "values_per_s": values / logged,
        "run_id": run.info.run_id,
    }


def create(api: Any, tool: str, args: argparse.Namespace) -> dict[str, Any]:
    """N runs, each with one param and two metrics (the search data)."""
    experiment = api.set_experiment(f"bench-runs-{args.tag}")
    started = time.perf_counter()
    for i in range(args.runs):
        with _start(api, tool):
            api.log_param("model", "rf" if i % 2 else "lr")
            api.log_metric("auc", (i * 7919 % 1000) / 1000)
            api.log_metric("loss", 1 - (i * 7919 % 1000) / 1000)
    seconds = time.perf_counter() - started
    return {
        "runs": args.runs,
        "seconds": seconds,
        "runs_per_s": args.runs / seconds,
        "experiment_id": str(experiment.experiment_id),
    }


def search(api: Any, tool: str, args: argparse.Namespace) -> dict[str, Any]:
    """A filtered, ordered search: first page of 100, then every match."""
    ids = [args.experiment_id]
    query = {
        "filter_string": "params.model = 'rf' and metrics.auc > 0.2",
        "order_by": ["metrics.auc DESC"],
    }
    api.search_runs(experiment_ids=ids, max_results=1, **query)  # imports (pandas) done
    started = time.perf_counter()
    first = api.search_runs(experiment_ids=ids, max_results=100, **query)
    page = time.perf_counter() - started
    started = time.perf_counter()
    every = api.search_runs(experiment_ids=ids, max_results=50_000, **query)
    whole = time.perf_counter() - started
    return {
        "first_page_s": page,
        "first_page_rows": len(first),
        "all_s": whole,
        "all_rows": len(every),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", choices=["mloop", "mlflow"], required=True)
    parser.add_argument("--uri", required=True)
    parser.add_argument("--tag", default="0")
    parser.add_argument("what", choices=["log", "create", "search"])
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--experiment-id", default="")
    args = parser.parse_args()
    api = _api(args.tool, args.uri)
    result = {"log": log, "create": create, "search": search}[args.what](api, args.tool, args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
