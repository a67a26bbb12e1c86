"""Tracking and artifacts over ``/api/v1``: batches, idempotency, search paging, history."""

from __future__ import annotations

import math

from tests.server.conftest import Team


def _run(team: Team, who: str = "ed") -> tuple[str, str]:
    experiment = team.client.post(
        "/api/v1/experiments", json={"name": "api"}, headers=team.headers(who)
    ).json()["experiment_id"]
    run = team.client.post(
        "/api/v1/runs", json={"experiment_id": experiment}, headers=team.headers(who)
    ).json()
    return str(experiment), run["info"]["run_id"]


def test_a_batch_logs_params_metrics_and_tags_and_ends_the_run(team: Team) -> None:
    _, run_id = _run(team)
    batch = {
        "params": [[run_id, "depth", "8"]],
        "metrics": [[run_id, "loss", 1 / (s + 1), s, 1000 + s] for s in range(5)]
        + [[run_id, "nan", None, 0, 1]],
        "tags": [[run_id, "team", "delays"]],
        "ended": [[run_id, "FINISHED", 2000]],
    }
    answer = team.client.post("/api/v1/runs/batch", json=batch, headers=team.headers("ed"))
    assert answer.json() == {"conflicts": [], "replayed": False}
    run = team.client.get(f"/api/v1/runs/{run_id}", headers=team.headers("vi")).json()
    assert run["info"]["status"] == "FINISHED" and run["info"]["end_time"] == 2000
    assert run["data"]["params"] == {"depth": "8"}
    assert run["data"]["metrics"]["loss"] == 0.2
    assert run["data"]["metrics"]["nan"] is None  # NaN travels as null
    assert run["data"]["tags"]["team"] == "delays"
    history = team.client.get(
        f"/api/v1/runs/{run_id}/metrics/loss", headers=team.headers("vi")
    ).json()["metrics"]
    assert [(m["step"], m["value"]) for m in history] == [(s, 1 / (s + 1)) for s in range(5)]
    assert math.isclose(history[-1]["value"], 0.2)


def test_a_retried_batch_with_the_same_idempotency_key_is_written_once(team: Team) -> None:
    _, run_id = _run(team)
    batch = {"metrics": [[run_id, "x", 1.0, 0, 1]]}
    headers = {**team.headers("ed"), "Idempotency-Key": "batch-0001"}
    first = team.client.post("/api/v1/runs/batch", json=batch, headers=headers).json()
    again = team.client.post("/api/v1/runs/batch", json=batch, headers=headers).json()
    assert (first["replayed"], again["replayed"]) == (False, True)
    history = team.client.get(f"/api/v1/runs/{run_id}/metrics/x", headers=team.headers("ed"))
    assert len(history.json()["metrics"]) == 1


def test_a_retried_create_with_the_same_run_id_makes_one_run(team: Team) -> None:
    experiment, _ = _run(team)
    body = {"experiment_id": experiment, "run_id": "a" * 32, "run_name": "once"}
    first = team.client.post("/api/v1/runs", json=body, headers=team.headers("ed")).json()
    again = team.client.post("/api/v1/runs", json=body, headers=team.headers("ed")).json()
    assert first["info"]["run_id"] == again["info"]["run_id"] == "a" * 32
    found = team.client.post(
        "/api/v1/runs/search",
        json={"filter": "attributes.run_name = 'once'"},
        headers=team.headers("ed"),
    ).json()["runs"]
    assert len(found) == 1


def test_search_filters_orders_and_pages(team: Team) -> None:
    experiment, _ = _run(team)
    ids = []
    for i in range(7):
        run = team.client.post(
            "/api/v1/runs", json={"experiment_id": experiment}, headers=team.headers("ed")
        ).json()
        ids.append(run["info"]["run_id"])
        team.client.post(
            "/api/v1/runs/batch",
            json={"metrics": [[ids[-1], "auc", i / 10, 0, 1]]},
            headers=team.headers("ed"),
        )
    query = {"filter": "metrics.auc >= 0.2", "order_by": ["metrics.auc DESC"], "max_results": 2}
    seen: list[float] = []
    token = None
    for _ in range(10):
        page = team.client.post(
            "/api/v1/runs/search", json={**query, "page_token": token}, headers=team.headers("vi")
        ).json()
        seen += [r["data"]["metrics"]["auc"] for r in page["runs"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [0.6, 0.5, 0.4, 0.3, 0.2]
    bad = team.client.post(
        "/api/v1/runs/search", json={"filter": "metrics.auc >>> 1"}, headers=team.headers("vi")
    )
    assert bad.status_code == 422 and "auc" in bad.json()["message"]
    token_bad = team.client.post(
        "/api/v1/runs/search", json={"page_token": "garbage"}, headers=team.headers("vi")
    )
    assert token_bad.status_code == 422 and "page_token" in token_bad.json()["message"]


def test_artifacts_upload_download_list_parts_and_escapes(team: Team) -> None:
    _, run_id = _run(team)
    headers = team.headers("ed")
    put = team.client.put(
        f"/api/v1/runs/{run_id}/artifacts/plots/a.txt", content=b"hello", headers=headers
    )
    assert put.status_code == 201 and put.json()["size"] == 5
    for n, part in enumerate([b"x" * 1000, b"y" * 10], 1):
        team.client.put(f"/api/v1/uploads/upload-001/parts/{n}", content=part, headers=headers)
    joined = team.client.post(
        f"/api/v1/runs/{run_id}/artifacts/big.bin",
        params={"upload_id": "upload-001", "parts": 2},
        headers=headers,
    )
    assert joined.json()["size"] == 1010
    listed = team.client.get(f"/api/v1/runs/{run_id}/artifacts", headers=headers).json()
    assert listed["files"] == ["big.bin", "plots/a.txt"]
    got = team.client.get(f"/api/v1/runs/{run_id}/artifacts/big.bin", headers=headers)
    assert got.content == b"x" * 1000 + b"y" * 10
    escape = team.client.put(
        f"/api/v1/runs/{run_id}/artifacts/a/%2E%2E/%2E%2E/%2E%2E/etc/x",
        content=b"no",
        headers=headers,
    )
    assert escape.status_code == 422 and ".." in escape.json()["message"]
    missing = team.client.get(f"/api/v1/runs/{run_id}/artifacts/nope.txt", headers=headers)
    assert missing.status_code == 404


def test_metrics_count_requests_per_route_template(team: Team) -> None:
    team.client.get("/api/v1/experiments")  # 401
    text = team.client.get("/metrics").text
    assert (
        'mloop_server_requests_total{method="GET",route="/api/v1/experiments",status="401"} 1.0'
        in text
    )
    assert team.client.get("/readyz").json() == {"status": "ready"}
