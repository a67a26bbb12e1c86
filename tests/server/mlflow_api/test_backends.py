"""The MLflow API's writes and reads on each metadata backend: SQLite, then PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

import mloop
from tests.server.mlflow_api.app import make_app
from tests.server.mlflow_api.calls import API, error, experiment, new_run, ok


def test_the_mlflow_api_on_each_backend(db_url: str) -> None:
    with TestClient(make_app()) as client:
        first = experiment(client, "a")
        experiment(client, "b")
        rename = {"experiment_id": first, "new_name": "b"}
        error(client.post(f"{API}/experiments/update", json=rename), 400, "RESOURCE_ALREADY_EXISTS")
        run_ids = []
        for i in range(3):
            run_id = new_run(client, first)
            batch = {
                "run_id": run_id,
                "metrics": [{"key": "auc", "value": i / 10, "timestamp": 1, "step": 0}],
                "params": [{"key": "i", "value": str(i)}],
                "tags": [{"key": "mlflow.runName", "value": f"run-{i}"}],
            }
            ok(client.post(f"{API}/runs/log-batch", json=batch))
            run_ids.append(run_id)
        changed = {"run_id": run_ids[0], "key": "i", "value": "9"}
        error(
            client.post(f"{API}/runs/log-parameter", json=changed), 400, "INVALID_PARAMETER_VALUE"
        )
        query = {"experiment_ids": [first], "order_by": ["metrics.auc DESC"], "max_results": 2}
        page = ok(client.post(f"{API}/runs/search", json=query))
        rest = ok(
            client.post(f"{API}/runs/search", json={**query, "page_token": page["next_page_token"]})
        )
        found = [r["info"]["run_id"] for r in page["runs"] + rest["runs"]]
        assert found == run_ids[::-1]
        assert mloop.get_run(run_ids[2]).info.run_name == "run-2"

        ok(
            client.post(
                f"{API}/registered-models/create",
                json={"name": "m", "tags": [{"key": "t", "value": "1"}]},
            )
        )
        ok(
            client.post(
                f"{API}/registered-models/set-tag", json={"name": "m", "key": "t", "value": "2"}
            )
        )
        got = ok(client.get(f"{API}/registered-models/get", params={"name": "m"}))[
            "registered_model"
        ]
        assert got["tags"] == [{"key": "t", "value": "2"}]
        ok(client.request("DELETE", f"{API}/registered-models/delete", json={"name": "m"}))
        error(
            client.get(f"{API}/registered-models/get", params={"name": "m"}),
            404,
            "RESOURCE_DOES_NOT_EXIST",
        )
