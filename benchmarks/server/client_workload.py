"""The stock MLflow client's workload, run against one tracking server (MLflow's or mloop's).

    python client_workload.py --uri http://127.0.0.1:5000 --params 10 --metrics 10 --steps 10 \
        --batch-params 50 --batch-metrics 100 --batch-steps 100 --runs 200

Runs in the MLflow client's own environment; prints one JSON object on its last line.
Every figure is wall time measured by the client, so both servers are timed the same way.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from typing import Any

logging.disable(logging.WARNING)


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    for name, default in [
        ("params", 10),
        ("metrics", 10),
        ("steps", 10),
        ("batch-params", 50),
        ("batch-metrics", 100),
        ("batch-steps", 100),
        ("runs", 200),
        ("repeat", 3),
    ]:
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()

    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    mlflow.set_tracking_uri(args.uri)
    client = MlflowClient()
    experiment_id = client.create_experiment(f"bench-{time.time_ns()}")
    figures: dict[str, Any] = {}

    # one call per value, as a training loop with mlflow.log_metric does
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    values = args.params + args.metrics * args.steps
    start = time.perf_counter()
    for i in range(args.params):
        client.log_param(run_id, f"param_{i}", f"value-{i}")
    for step in range(args.steps):
        for k in range(args.metrics):
            client.log_metric(run_id, f"metric_{k}", step * 0.01 + k, step=step)
    client.set_terminated(run_id)
    elapsed = time.perf_counter() - start
    figures["per_call"] = {"values": values, "seconds": elapsed, "values_per_s": values / elapsed}
    stored = client.get_run(run_id).data
    assert len(stored.params) == args.params and len(stored.metrics) == args.metrics

    # the same shape of run through log_batch (1000 values per request, MLflow's limit)
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)
    params = [Param(f"param_{i}", f"value-{i}") for i in range(args.batch_params)]
    metrics = [
        Metric(f"metric_{k}", step * 0.01 + k, now, step)
        for step in range(args.batch_steps)
        for k in range(args.batch_metrics)
    ]
    start = time.perf_counter()
    for offset in range(0, len(params), 100):
        client.log_batch(run_id, params=params[offset : offset + 100])
    for offset in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[offset : offset + 1000])
    client.set_terminated(run_id)
    elapsed = time.perf_counter() - start
    total = len(params) + len(metrics)
    figures["log_batch"] = {"values": total, "seconds": elapsed, "values_per_s": total / elapsed}
    history = client.get_metric_history(run_id, "metric_0")
    assert len(history) == args.batch_steps

    # many small runs, then a filtered and ordered search over them
    start = time.perf_counter()
    for i in range(args.runs):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("auc", (i * 37 % 100) / 100, now, 0)],
            params=[Param("model", "gbm" if i % 2 else "rf")],
        )
        client.set_terminated(run_id)
    elapsed = time.perf_counter() - start
    figures["create_runs"] = {
        "runs": args.runs,
        "seconds": elapsed,
        "runs_per_s": args.runs / elapsed,
    }

    query = "params.model = 'gbm' and metrics.auc > 0.2"
    order = ["metrics.auc DESC"]

    def first_page() -> list[Any]:
        return list(client.search_runs([experiment_id], query, order_by=order, max_results=100))

    def every_page() -> list[Any]:
        found: list[Any] = []
        token = None
        while True:
            page = client.search_runs(
                [experiment_id], query, order_by=order, max_results=100, page_token=token
            )
            found.extend(page)
            token = page.token
            if not token:
                return found

    for name, search in (("search_first_100", first_page), ("search_all", every_page)):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            found = search()
            times.append(time.perf_counter() - start)
        aucs = [r.data.metrics["auc"] for r in found]
        assert aucs == sorted(aucs, reverse=True) and all(a > 0.2 for a in aucs)
        figures[name] = {
            "seconds": statistics.median(times),
            "first_seconds": times[0],
            "runs": len(found),
        }
    return figures


if __name__ == "__main__":
    print(json.dumps(main()))
