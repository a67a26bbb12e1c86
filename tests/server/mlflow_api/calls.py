"""The MLflow API served in process, and helpers to call it and read MLflow's answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.mlflow_api.app import make_app

API = "/api/2.0/mlflow"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    message: str = response.json()["message"]
    return message


def experiment(client: TestClient, name: str = "exp") -> str:
    return str(ok(client.post(f"{API}/experiments/create", json={"name": name}))["experiment_id"])


def new_run(client: TestClient, experiment_id: str, **fields: Any) -> str:
    body = ok(client.post(f"{API}/runs/create", json={"experiment_id": experiment_id, **fields}))
    return str(body["run"]["info"]["run_id"])
