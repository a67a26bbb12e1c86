"""Bad input never makes the server answer 5xx: every route, odd path values and bodies."""

from __future__ import annotations

import re

import pytest

from tests.server.conftest import Team

ODD_VALUES = ["x", "0", "-1", "99999999999999999999", "%2E%2E", "a%20b", "é", "1e9", "null"]
ODD_BODIES = [
    {},
    {"name": 5, "experiment_id": [], "version": "x", "tags": "no", "status": 3},
    {"experiment_id": "99999999999999999999", "run_id": "z" * 32, "start_time": -1},
    {"metrics": [["r", "k", "v", 0, 0]], "params": [[1, 2]], "ended": [["r", "DONE", 0]]},
    {"filter": "metrics.auc >", "order_by": ["nope DESC DESC"], "max_results": 0},
    {"filter": "params.x = 'a'", "page_token": "%%%", "experiment_ids": ["abc"]},
    {"version": 0, "reason": None, "scopes": ["root"], "expires": "forever"},
    {"source": "../../etc/passwd", "flavor": "x", "run_id": "missing"},
]


def _paths(team: Team) -> list[tuple[str, str]]:
    paths = team.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((m.upper(), p) for p, ops in paths.items() for m in ops)


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_path_values_and_bodies_never_give_a_server_error(team: Team, value: str) -> None:
    headers = team.headers("root")
    failures = []
    for method, path in _paths(team):
        concrete = re.sub(r"\{\w+(:path)?\}", value, path)
        for body in ODD_BODIES if method in ("POST", "PUT", "PATCH") else [None]:
            params = {"uri": f"models:/{value}@champion", "upload_id": value, "parts": value}
            answer = team.client.request(
                method, concrete, json=body, headers=headers, params=params
            )
            if answer.status_code >= 500:
                failures.append((method, concrete, body, answer.status_code, answer.text[:200]))
    assert failures == []


def test_a_body_that_is_not_json_is_a_client_error(team: Team) -> None:
    answer = team.client.post(
        "/api/v1/experiments",
        content=b"{not json",
        headers={**team.headers("root"), "content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
