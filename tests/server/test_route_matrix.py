"""Role × route: every route of the app checks authentication and permission.

The routes are enumerated from the app's OpenAPI document, so a new route that forgets
its dependency fails here.
"""

from __future__ import annotations

import re

import pytest

from tests.server.conftest import Team

PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}
# routes every member may call whatever the role: their own session and tokens
OWN = {
    ("GET", "/api/v1/auth/whoami"),
    ("GET", "/api/v1/auth/tokens"),
    ("POST", "/api/v1/auth/tokens"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"),
}
ADMIN_ONLY = {
    ("GET", "/api/v1/audit"),
    ("POST", "/api/v1/loop/decisions/{decision_id}/approve"),
    ("POST", "/api/v1/loop/decisions/{decision_id}/reject"),
}
READS = {  # reads with a body (MLflow's API searches with POST)
    ("POST", "/api/v1/runs/search"),
    ("POST", "/api/2.0/mlflow/runs/search"),
    ("POST", "/api/2.0/mlflow/experiments/search"),
    ("POST", "/api/2.0/mlflow/logged-models/search"),
    ("POST", "/api/2.0/mlflow/registered-models/get-latest-versions"),
}


ARTIFACT = "runs/" + "0" * 32 + "/artifacts/f"  # an artifact path of a run (that is absent)


def _routes(team: Team) -> list[tuple[str, str]]:
    paths = team.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((m.upper(), p) for p, ops in paths.items() for m in ops)


def _call(team: Team, method: str, path: str, headers: dict[str, str]) -> int:
    concrete = re.sub(
        r"\{(\w+)(:path)?\}",
        lambda m: (
            "1" if m[1] in ("token_id", "version", "part") else ARTIFACT if m[1] == "path" else "x1"
        ),
        path,
    )
    body = {} if method in ("POST", "PUT", "PATCH") else None
    params = {
        "uri": "runs:/0123",
        "upload_id": "abcdefgh",
        "parts": 1,
        "path": ARTIFACT,
    }
    return team.client.request(
        method, concrete, json=body, headers=headers, params=params
    ).status_code


def test_the_matrix_covers_every_route(team: Team) -> None:
    routes = _routes(team)
    assert len(routes) >= 30
    assert set(PUBLIC) - {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")} <= set(
        routes
    )


def test_no_route_answers_without_a_token(team: Team) -> None:
    for method, path in _routes(team):
        if (method, path) in PUBLIC:
            continue
        assert _call(team, method, path, {}) == 401, (method, path)


def test_a_viewer_cannot_write(team: Team) -> None:
    for method, path in _routes(team):
        if (method, path) in PUBLIC | OWN:
            continue
        status = _call(team, method, path, team.headers("vi"))
        if (method == "GET" and (method, path) not in ADMIN_ONLY) or (method, path) in READS:
            assert status != 403, (method, path, status)
        else:
            assert status == 403, (method, path, status)


def test_a_read_only_token_cannot_write_even_for_an_editor(team: Team) -> None:
    for method, path in _routes(team):
        if (method, path) in PUBLIC | OWN | READS or method == "GET":
            continue
        assert _call(team, method, path, team.headers("ro")) == 403, (method, path)


def test_a_member_of_workspace_b_cannot_use_workspace_a(team: Team) -> None:
    for method, path in _routes(team):
        if (method, path) in PUBLIC:
            continue
        assert _call(team, method, path, team.headers("bob", "a")) == 403, (method, path)


def test_an_editor_of_a_cannot_see_the_experiments_and_runs_of_b(team: Team) -> None:
    created = team.client.post(
        "/api/v1/experiments", json={"name": "b-secret"}, headers=team.headers("bob", "b")
    ).json()
    run = team.client.post(
        "/api/v1/runs",
        json={"experiment_id": created["experiment_id"]},
        headers=team.headers("bob", "b"),
    ).json()
    run_id = run["info"]["run_id"]
    ed = team.headers("ed", "a")
    listed = team.client.get("/api/v1/experiments", headers=ed).json()["experiments"]
    assert "b-secret" not in [e["name"] for e in listed]
    assert (
        team.client.get(f"/api/v1/experiments/{created['experiment_id']}", headers=ed).status_code
        == 404
    )
    assert team.client.get(f"/api/v1/runs/{run_id}", headers=ed).status_code == 404
    found = team.client.post("/api/v1/runs/search", json={}, headers=ed).json()["runs"]
    assert run_id not in [r["info"]["run_id"] for r in found]
    logged = team.client.post(
        "/api/v1/runs/batch", json={"metrics": [[run_id, "m", 1.0, 0, 1]]}, headers=ed
    )
    assert logged.status_code == 404
    mine = team.client.post("/api/v1/runs/search", json={}, headers=team.headers("bob", "b"))
    assert [r["info"]["run_id"] for r in mine.json()["runs"]] == [run_id]


@pytest.mark.parametrize("who", ["vi", "ed", "alice"])
def test_members_of_a_can_read_their_workspace(team: Team, who: str) -> None:
    assert team.client.get("/api/v1/experiments", headers=team.headers(who)).status_code == 200
