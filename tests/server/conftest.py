"""Fixtures of the server tests: an app with auth on, users and their tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from mloop.server.app import create_app
from mloop.server.auth import accounts, tokens
from mloop.store import get_store


@dataclass
class Team:
    """Users of two workspaces (a and b) with one token each."""

    client: TestClient
    tokens: dict[str, str]

    def headers(self, who: str, workspace: str = "a") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", "X-Mloop-Workspace": workspace}


@pytest.fixture
def team() -> Iterator[Team]:
    store = get_store()
    members = {
        "root": ("a", "admin", True, ("read", "write", "admin")),
        "alice": ("a", "admin", False, ("read", "write", "admin")),
        "ed": ("a", "editor", False, ("read", "write")),
        "vi": ("a", "viewer", False, ("read",)),
        "bob": ("b", "editor", False, ("read", "write")),
        "ro": ("a", "editor", False, ("read",)),  # an editor whose token only reads
    }
    secrets = {}
    for name, (workspace, role, is_admin, scopes) in members.items():
        accounts.create(
            store, name, password=f"{name}-password", admin=is_admin, workspace=workspace, role=role
        )
        secrets[name], _ = tokens.create(store, name, scopes)
    with TestClient(create_app()) as client:
        yield Team(client, secrets)
