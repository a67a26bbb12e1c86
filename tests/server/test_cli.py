"""``mloop users``, ``mloop tokens`` and the exposure check of ``mloop server``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.cli.server import check_exposure, is_loopback
from mloop.core.errors import ConfigError
from mloop.server.app import create_app

runner = CliRunner()


def _cli(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_token_from_the_cli_authenticates_and_revoking_it_stops_it() -> None:
    _cli("users", "create", "ada", "--admin", "--password", "correct horse")
    output = _cli("tokens", "create", "--user", "ada", "--scope", "read", "--expires", "1d")
    secret = output.strip().splitlines()[-1]
    assert secret.startswith("mlp_") and " " not in secret
    listed = _cli("tokens", "list", "--json")
    assert secret not in listed and '"user": "ada"' in listed
    with TestClient(create_app()) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/auth/whoami", headers=headers).json()["role"] == "admin"
        _cli("tokens", "revoke", "1")
        assert client.get("/api/v1/auth/whoami", headers=headers).status_code == 401


def test_users_create_asks_for_the_password_when_not_given() -> None:
    output = _cli("users", "create", "bo", stdin="long enough\nlong enough\n")
    assert "created user 'bo'" in output
    assert "long enough" not in output.split("\n", 2)[-1]
    result = runner.invoke(app, ["users", "create", "cy", "--password", "short"])
    assert result.exit_code != 0 and "at least 8 characters" in str(result.exception)


def test_the_server_refuses_a_public_address_without_auth() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    with pytest.raises(ConfigError, match="--insecure"):
        check_exposure("0.0.0.0", auth_configured=False, insecure=False)
    check_exposure("0.0.0.0", auth_configured=True, insecure=False)
    check_exposure("0.0.0.0", auth_configured=False, insecure=True)
    check_exposure("127.0.0.1", auth_configured=False, insecure=False)
    result = runner.invoke(app, ["server", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code != 0 and "--insecure" in str(result.exception)
