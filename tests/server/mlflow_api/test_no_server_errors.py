"""Every MLflow route answers junk with a 4xx, never a 5xx: a seeded sweep over the
OpenAPI document (the server's schemathesis run covers the same routes once mounted)."""

from __future__ import annotations

import random
from typing import Any

from fastapi.testclient import TestClient

from tests.server.mlflow_api.app import make_app
from tests.server.mlflow_api.calls import experiment, new_run

_LISTS = ("tags", "params", "metrics", "datasets", "models")
_PATHS = ("path", "model_id", "tag_key")


def test_junk_requests_get_client_errors_on_every_route() -> None:
    rng = random.Random(18)
    with TestClient(make_app(), raise_server_exceptions=False) as client:
        experiment_id = experiment(client)
        run_id = new_run(client, experiment_id)
        junk: list[Any] = [None, "", "x", "\x00", "ü" * 300, -1, 0, 2**70, 1e308, "NaN"]
        junk += [[], {}, [1, "a"], "../..", run_id, experiment_id, "0", "m-" + "0" * 32, True]
        spec = client.get("/openapi.json").json()
        answered = []
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {})
                ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                fields = (
                    spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
                    if ref
                    else {}
                )
                queries = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
                for _ in range(12):
                    body = {k: rng.choice(junk) for k in fields if rng.random() < 0.8}
                    for key in set(body) & set(_LISTS):
                        entry = {
                            "key": rng.choice(junk),
                            "value": rng.choice(junk),
                            "step": rng.choice(junk),
                        }
                        body[key] = [
                            entry,
                            {"dataset": {"name": rng.choice(junk)}, "model_id": "x"},
                        ]
                    query = {k: str(rng.choice(junk)) for k in queries}
                    url = path.replace(
                        "{path:path}", rng.choice([f"runs/{run_id}/artifacts/a", "x", "%00"])
                    )
                    for name in _PATHS:
                        url = url.replace(
                            "{" + name + "}", rng.choice(["x", "m-" + "0" * 32, "..%2f.."])
                        )
                    response = client.request(
                        method.upper(), url, params=query, json=body if fields else None
                    )
                    answered.append((response.status_code, method, path, body))
        server_errors = [a for a in answered if a[0] >= 500]
        assert server_errors == []
        swept = {(method, path) for _, method, path, _ in answered}
        assert len(swept) >= 55  # every MLflow call of the router, each 12 times
        assert all(
            path.startswith(("/api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/")) for _, path in swept
        )
        assert any(status == 200 for status, *_ in answered)
