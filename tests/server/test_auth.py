"""Authentication: tokens, login, roles per workspace, and the principal of each request."""

from __future__ import annotations

import time

from mloop.server.auth import accounts, tokens
from mloop.store import audit, get_store
from tests.server.conftest import Team


def _experiment(team: Team, who: str = "ed", name: str = "exp", workspace: str = "a") -> str:
    answer = team.client.post(
        "/api/v1/experiments", json={"name": name}, headers=team.headers(who, workspace)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["experiment_id"])


def test_a_request_without_a_token_is_refused_with_401(team: Team) -> None:
    answer = team.client.get("/api/v1/experiments")
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "UNAUTHENTICATED"
    assert "Bearer" in answer.json()["message"]


def test_an_unknown_token_is_refused_and_the_message_does_not_repeat_it(team: Team) -> None:
    secret = "mlp_" + "x" * 43
    answer = team.client.get("/api/v1/experiments", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401
    assert secret not in answer.text and "xxxx" not in answer.text


def test_whoami_names_the_token_user_and_role(team: Team) -> None:
    answer = team.client.get("/api/v1/auth/whoami", headers=team.headers("vi"))
    assert answer.json() == {
        "name": "vi",
        "workspace": "a",
        "role": "viewer",
        "scopes": ["read"],
        "kind": "user",
    }


def test_basic_auth_with_the_token_as_password_is_accepted(team: Team) -> None:
    answer = team.client.get("/api/v1/auth/whoami", auth=("ed", team.tokens["ed"]))
    assert answer.status_code == 403  # ed is not a member of the default workspace
    answer = team.client.get(
        "/api/v1/auth/whoami",
        auth=("ed", team.tokens["ed"]),
        headers={"X-Mloop-Workspace": "a"},
    )
    assert answer.json()["name"] == "ed"


def test_a_revoked_token_fails_at_the_next_request(team: Team) -> None:
    headers = team.headers("ed")
    assert team.client.get("/api/v1/experiments", headers=headers).status_code == 200
    mine = team.client.get("/api/v1/auth/tokens", headers=headers).json()["tokens"]
    assert len(mine) == 1
    revoked = team.client.delete(f"/api/v1/auth/tokens/{mine[0]['id']}", headers=headers)
    assert revoked.json()["revoked"] is True
    answer = team.client.get("/api/v1/experiments", headers=headers)
    assert answer.status_code == 401
    assert "revoked" in answer.json()["message"]


def test_an_expired_token_fails(team: Team) -> None:
    secret, _ = tokens.create(get_store(), "ed", ["read"], expires_in_ms=1)
    time.sleep(0.01)
    answer = team.client.get(
        "/api/v1/experiments",
        headers={"Authorization": f"Bearer {secret}", "X-Mloop-Workspace": "a"},
    )
    assert answer.status_code == 401
    assert "expired" in answer.json()["message"]


def test_login_gives_a_working_token_and_is_rate_limited(team: Team) -> None:
    good = team.client.post(
        "/api/v1/auth/login", json={"username": "vi", "password": "vi-password"}
    )
    assert good.status_code == 200
    headers = {"Authorization": f"Bearer {good.json()['token']}", "X-Mloop-Workspace": "a"}
    assert team.client.get("/api/v1/auth/whoami", headers=headers).json()["name"] == "vi"
    statuses = [
        team.client.post(
            "/api/v1/auth/login", json={"username": "vi", "password": "wrong-guess"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses[:4] == [401] * 4
    assert statuses[-1] == 429
    assert (
        "wrong-guess"
        not in team.client.post(
            "/api/v1/auth/login", json={"username": "ed", "password": "wrong-guess"}
        ).text
    )


def test_passwords_are_stored_as_argon2_hashes(team: Team) -> None:
    from sqlalchemy import select

    from mloop.store.schema.auth import AuthUser

    with get_store().read() as conn:
        stored = conn.execute(select(AuthUser.password_hash).where(AuthUser.name == "vi")).scalar()
    assert stored.startswith("$argon2id$") and "vi-password" not in stored
    assert accounts.verify_password(get_store(), "vi", "vi-password")
    assert not accounts.verify_password(get_store(), "vi", "nope-nope")


def test_the_run_user_and_the_audit_actor_are_the_token_user(team: Team) -> None:
    experiment = _experiment(team, "alice")
    run = team.client.post(
        "/api/v1/runs", json={"experiment_id": experiment}, headers=team.headers("alice")
    ).json()
    assert run["info"]["user_id"] == "alice"
    version = team.client.post(
        "/api/v1/models/delays/versions",
        json={"source": "models/x", "flavor": "sklearn", "run_id": run["info"]["run_id"]},
        headers=team.headers("alice"),
    )
    assert version.status_code == 201, version.text
    moved = team.client.put(
        "/api/v1/models/delays/aliases/champion",
        json={"version": 1, "reason": "best"},
        headers=team.headers("alice"),
    )
    assert moved.status_code == 200, moved.text
    entries = audit.entries(get_store(), "registered_model", "delays", "alias.set")
    assert [e.actor for e in entries] == ["alice"]


def test_a_protected_alias_moves_only_by_an_admin(team: Team) -> None:
    experiment = _experiment(team)
    run = team.client.post(
        "/api/v1/runs", json={"experiment_id": experiment}, headers=team.headers("ed")
    ).json()
    team.client.post(
        "/api/v1/models/m/versions",
        json={"source": "models/x", "flavor": "sklearn", "run_id": run["info"]["run_id"]},
        headers=team.headers("ed"),
    )
    refused = team.client.put(
        "/api/v1/models/m/aliases/champion", json={"version": 1}, headers=team.headers("ed")
    )
    assert refused.status_code == 403
    assert "protected" in refused.json()["message"]
    allowed = team.client.put(
        "/api/v1/models/m/aliases/candidate", json={"version": 1}, headers=team.headers("ed")
    )
    assert allowed.status_code == 200
    assert allowed.json()["aliases"] == ["candidate"]
