"""Retraining decisions over the API: admins approve or reject, audited as themselves."""

from __future__ import annotations

from mloop.loop.decisions import Decision, save
from mloop.registry import get_version
from mloop.store import audit, get_store
from tests.server.conftest import Team


def _pending(team: Team) -> str:
    headers = team.headers("alice")
    experiment = team.client.post("/api/v1/experiments", json={"name": "loop"}, headers=headers)
    run = team.client.post(
        "/api/v1/runs", json={"experiment_id": experiment.json()["experiment_id"]}, headers=headers
    ).json()["info"]["run_id"]
    for _ in range(2):
        team.client.post(
            "/api/v1/models/delays/versions",
            json={"source": "models/x", "flavor": "sklearn", "run_id": run},
            headers=headers,
        )
    team.client.put("/api/v1/models/delays/aliases/champion", json={"version": 1}, headers=headers)
    decision = Decision(
        id="d" * 32,
        policy="nightly",
        model="delays",
        alias="champion",
        trigger="drift",
        reason="drift.share 0.4",
        status="awaiting_approval",
        champion_version=1,
        candidate_version=2,
    )
    save(decision, "loop.decide", "policy")
    return decision.id


def test_an_admin_approves_a_decision_and_the_audit_names_them(team: Team) -> None:
    decision = _pending(team)
    listed = team.client.get("/api/v1/loop/decisions", headers=team.headers("vi")).json()
    assert [d["status"] for d in listed["decisions"]] == ["awaiting_approval"]
    refused = team.client.post(
        f"/api/v1/loop/decisions/{decision}/approve", json={}, headers=team.headers("ed")
    )
    assert refused.status_code == 403
    approved = team.client.post(
        f"/api/v1/loop/decisions/{decision}/approve",
        json={"reason": "card checked"},
        headers=team.headers("alice"),
    )
    assert approved.status_code == 200, approved.text
    assert get_version("delays", "champion").version == 2
    entry = audit.entries(get_store(), action="loop.approve")[0]
    assert entry.actor == "alice"
    again = team.client.post(
        f"/api/v1/loop/decisions/{decision}/reject",
        json={"reason": "too late"},
        headers=team.headers("alice"),
    )
    assert again.status_code == 409


def test_decisions_of_another_workspace_are_hidden(team: Team) -> None:
    decision = _pending(team)
    other = team.client.get("/api/v1/loop/decisions", headers=team.headers("bob", "b")).json()
    assert other["decisions"] == []
    hidden = team.client.get(f"/api/v1/loop/decisions/{decision}", headers=team.headers("bob", "b"))
    assert hidden.status_code == 404
