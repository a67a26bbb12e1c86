"""``mloop serve`` and the feature server accept the server's tokens when accounts exist."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from mloop.server.auth import accounts, tokens
from mloop.server.features import create_app as feature_app
from mloop.server.serving import create_app
from mloop.store import get_store
from tests.serving.conftest import Flights, records


def _team() -> dict[str, str]:
    store = get_store()
    secrets = {}
    for name, scopes in {
        "reader": ("read",),
        "labeler": ("feedback",),
        "writer": ("read", "write"),
    }.items():
        accounts.create(store, name, password=f"{name}-password", role="editor")
        secrets[name], _ = tokens.create(store, name, scopes)
    return secrets


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def guarded(champion: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    secrets = _team()
    with TestClient(create_app(champion, log=True, watch=False)) as client:
        yield client, secrets


def test_predictions_need_a_read_token_and_feedback_its_own_scope(
    guarded: tuple[TestClient, dict[str, str]], flights: Flights
) -> None:
    client, secrets = guarded
    body = {"records": records(flights.test.head(2))}
    refused = client.post("/v1/models/delays/predict", json=body)
    assert refused.status_code == 401 and "Bearer" in refused.json()["message"]
    assert client.post("/invocations", json=body).status_code == 401
    bad = client.post("/v1/models/delays/predict", json=body, headers=_auth("mlp_nope"))
    assert bad.status_code == 401
    answer = client.post("/v1/models/delays/predict", json=body, headers=_auth(secrets["reader"]))
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 2
    request_id = answer.json()["request_ids"][0]
    label = {"request_id": request_id, "label": 1}
    denied = client.post("/v1/feedback", json=label, headers=_auth(secrets["reader"]))
    assert denied.status_code == 403 and "'feedback'" in denied.json()["message"]
    done = client.post("/v1/feedback", json=label, headers=_auth(secrets["labeler"]))
    assert done.status_code == 200 and done.json()["recorded"] == 1
    # a feedback-only token cannot predict; status pages stay open for probes
    labeler = client.post("/invocations", json=body, headers=_auth(secrets["labeler"]))
    assert labeler.status_code == 403
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/models").status_code == 401


def test_a_revoked_token_stops_at_once(guarded: tuple[TestClient, dict[str, str]]) -> None:
    client, secrets = guarded
    assert client.get("/v1/models", headers=_auth(secrets["reader"])).status_code == 200
    [info] = tokens.list_tokens(get_store(), "reader")
    tokens.revoke(get_store(), info.id)
    assert client.get("/v1/models", headers=_auth(secrets["reader"])).status_code == 401


def test_without_accounts_the_model_server_answers_everyone(champion: str) -> None:
    with TestClient(create_app(champion, log=False, watch=False)) as client:
        assert client.get("/v1/models").status_code == 200


def test_the_feature_server_needs_read_and_refresh_needs_write(mloop_home: object) -> None:
    secrets = _team()
    client = TestClient(feature_app())
    query = {"features": ["weather:temp"], "entities": {"origin": ["JFK"]}}
    assert client.post("/features/online", json=query).status_code == 401
    read = client.post("/features/online", json=query, headers=_auth(secrets["reader"]))
    assert read.status_code not in (401, 403)  # past the guard (no such view here)
    assert client.post("/features/refresh", headers=_auth(secrets["reader"])).status_code == 403
    assert client.post("/features/refresh", headers=_auth(secrets["writer"])).status_code == 200
    assert client.get("/health").status_code == 200
    assert httpx.codes.is_success(client.get("/docs").status_code)
