"""MLflow's run search and metric history on mloop's stores: filters, order, pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.mlflow_api.calls import API, error, experiment, new_run, ok


def test_metric_history_pages_in_step_order(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    for step in (2, 0, 1):
        ok(
            client.post(
                f"{API}/runs/log-metric",
                json={"run_id": run_id, "key": "loss", "value": step / 10, "step": step},
            )
        )
    params = {"run_id": run_id, "metric_key": "loss", "max_results": 2}
    first = ok(client.get(f"{API}/metrics/get-history", params=params))
    assert [(m["step"], m["value"]) for m in first["metrics"]] == [(0, 0.0), (1, 0.1)]
    rest = ok(
        client.get(
            f"{API}/metrics/get-history", params={**params, "page_token": first["next_page_token"]}
        )
    )
    assert [(m["step"], m["value"]) for m in rest["metrics"]] == [(2, 0.2)]
    assert "next_page_token" not in rest


def test_search_runs_translates_filters_orders_and_pages(client: TestClient) -> None:
    experiment_id = experiment(client)
    made = []
    for i in range(5):
        run_id = new_run(client, experiment_id, run_name=f"r{i}")
        batch = {
            "run_id": run_id,
            "metrics": [{"key": "auc", "value": 0.5 + i / 10, "timestamp": 1, "step": 0}],
            "params": [{"key": "model", "value": "gbm" if i % 2 else "rf"}],
        }
        ok(client.post(f"{API}/runs/log-batch", json=batch))
        made.append(run_id)
    query = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.auc > 0.55 and tags.`mlflow.runName` != 'r4'",
        "order_by": ["metrics.auc DESC"],
        "max_results": 2,
    }
    first = ok(client.post(f"{API}/runs/search", json=query))
    assert [r["info"]["run_id"] for r in first["runs"]] == [made[3], made[2]]
    second = ok(
        client.post(f"{API}/runs/search", json={**query, "page_token": first["next_page_token"]})
    )
    assert [r["info"]["run_id"] for r in second["runs"]] == [made[1]]
    assert "next_page_token" not in second
    gbm = ok(
        client.post(
            f"{API}/runs/search",
            json={"experiment_ids": [experiment_id], "filter": "params.model = 'gbm'"},
        )
    )
    assert {r["info"]["run_id"] for r in gbm["runs"]} == {made[1], made[3]}

    bad = error(
        client.post(
            f"{API}/runs/search",
            json={"experiment_ids": [experiment_id], "filter": "metrics.auc >"},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "position" in bad
    token = error(
        client.post(
            f"{API}/runs/search", json={"experiment_ids": [experiment_id], "page_token": "garbage"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "page_token" in token
    error(
        client.post(f"{API}/runs/search", json={"experiment_ids": []}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error(
        client.post(
            f"{API}/runs/search", json={"experiment_ids": [experiment_id], "max_results": 0}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
