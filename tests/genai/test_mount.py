"""The router as ``mloop server`` mounts it, config keys, and the ``mloop gateway`` command."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from mloop.cli.main import app as cli
from mloop.core.errors import ConfigError
from mloop.genai.gateway import create_gateway_router, load_config
from mloop.genai.gateway.auth import config_authenticator
from tests.genai.upstream import FakeUpstream, Served


def test_the_router_mounted_in_another_app_answers_with_its_principal(
    upstream: FakeUpstream, monkeypatch
):
    monkeypatch.setenv("GW_TEST_KEY", "sk-mounted-0123456789")
    config = load_config(
        {
            "routes": {
                "chat": {
                    "deployments": [{"provider": "openai", "model": "m", "api_base": upstream.base}]
                }
            },
            "api_keys": [{"env": "GW_TEST_KEY", "user": "ada", "workspace": "fraud"}],
        }
    )
    app = FastAPI()
    seen = []
    router = create_gateway_router(
        config,
        config_authenticator(config),
        hooks=[type("H", (), {"on_complete": lambda self, c, o: seen.append(c.principal)})()],
    )
    app.include_router(router, prefix="/gateway")
    with Served(app) as served:
        ok = httpx.post(
            served.url + "/gateway/v1/chat/completions",
            json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer sk-mounted-0123456789"},
        )
        wrong = httpx.get(
            served.url + "/gateway/v1/models", headers={"authorization": "Bearer nope"}
        )
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "primary: hi"
    assert seen[0].name == "ada" and seen[0].workspace == "fraud" and "gateway" in seen[0].scopes
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"


def test_a_configured_key_whose_variable_is_unset_is_named(monkeypatch):
    monkeypatch.delenv("GW_MISSING_KEY", raising=False)
    config = load_config(
        {
            "routes": {"chat": {"deployments": [{"provider": "local", "model": "smollm2-135m"}]}},
            "api_keys": [{"env": "GW_MISSING_KEY", "user": "bob"}],
        }
    )
    with pytest.raises(ConfigError, match=r"user 'bob' is read from \$GW_MISSING_KEY"):
        config_authenticator(config)


def test_the_command_refuses_to_expose_a_gateway_without_keys(tmp_path):
    routes = tmp_path / "routes.yaml"
    routes.write_text(
        "routes:\n  chat:\n    deployments: [{provider: local, model: smollm2-135m}]\n"
    )
    result = CliRunner().invoke(cli, ["gateway", "--config", str(routes), "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "would expose a gateway without keys" in str(result.exception) + result.output


def test_the_command_names_a_bad_config(tmp_path):
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes:\n  chat:\n    deployments: [{provider: openia, model: x}]\n")
    result = CliRunner().invoke(cli, ["gateway", "--config", str(routes)])
    assert result.exit_code != 0
    assert "routes.chat.deployments.0.provider = 'openia'" in str(result.exception) + result.output


def test_without_config_the_command_reads_mloop_toml_or_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mloop.toml").write_text("[mloop]\n")
    result = CliRunner().invoke(cli, ["gateway"])
    assert (
        "add a [gateway] section with routes to mloop.toml" in str(result.exception) + result.output
    )
    (tmp_path / "mloop.toml").write_text(
        '[gateway.routes.chat]\ndeployments = [{provider = "local", model = "smollm2-135m"}]\n'
    )
    result = CliRunner().invoke(cli, ["gateway", "--host", "0.0.0.0"])
    # the section was read (it got as far as refusing to listen without keys)
    assert "would expose a gateway without keys" in str(result.exception) + result.output
