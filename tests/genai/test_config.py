"""The gateway's YAML configuration and the guardrail hook contract."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mloop.core.errors import ConfigError
from mloop.genai.gateway import Gateway, load_config, register_guardrail_factory
from mloop.genai.gateway.hooks import CallContext
from mloop.genai.providers import ChatRequest, ChatResponse

ISSUE_EXAMPLE = """
routes:
  chat:                      # clients ask for model "chat"
    deployments:
      - {provider: openai, model: gpt-4o-mini, api_base: "http://127.0.0.1:9000/v1", api_key_env: UPSTREAM_KEY, weight: 3}
      - {provider: local, model: smollm2-135m}
    fallbacks: [chat-local]
    guardrails: [{pii: redact}]
  chat-local:
    deployments: [{provider: local, model: smollm2-135m}]
  embed:
    deployments: [{provider: local, model: all-minilm-l6-v2}]
"""


def test_the_issue_example_parses_and_keeps_guardrail_specs_as_data(tmp_path: Path):
    path = tmp_path / "routes.yaml"
    path.write_text(ISSUE_EXAMPLE)
    config = load_config(path)
    chat = config.routes["chat"]
    assert [d.weight for d in chat.deployments] == [3, 1]
    assert chat.deployments[0].api_key_env == "UPSTREAM_KEY"
    assert chat.fallbacks == ["chat-local"] and chat.guardrails == [{"pii": "redact"}]
    assert config.routes["embed"].deployments[0].model == "all-minilm-l6-v2"


def test_guardrails_without_a_registered_factory_are_mloops_own(monkeypatch):
    monkeypatch.setenv("UPSTREAM_KEY", "k")
    import yaml

    config = load_config(yaml.safe_load(ISSUE_EXAMPLE))
    gateway = Gateway(config)
    # pii checks both ways: an input hook and an output hook on the route, none elsewhere
    assert gateway.has_after_hooks("chat") and not gateway.has_after_hooks("embed")


def test_a_missing_api_key_variable_is_named(monkeypatch):
    monkeypatch.delenv("UPSTREAM_KEY", raising=False)
    config = load_config(
        {
            "routes": {
                "c": {
                    "deployments": [
                        {"provider": "openai", "model": "m", "api_key_env": "UPSTREAM_KEY"}
                    ]
                }
            }
        }
    )
    with pytest.raises(ConfigError, match=r"\$UPSTREAM_KEY, which is not set"):
        Gateway(config)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"routes": {"c": {"deployments": [{"provider": "openia", "model": "m"}]}}},
            r"routes.c.deployments.0.provider = 'openia'",
        ),
        (
            {"routes": {"c": {"deployments": [{"provider": "local", "model": "m", "wieght": 2}]}}},
            r"routes.c.deployments.0.wieght",
        ),
        ({"routes": {"c": {"deployments": []}}}, r"routes.c.deployments"),
        (
            {
                "routes": {
                    "c": {"deployments": [{"provider": "local", "model": "m"}], "fallbacks": ["cc"]}
                }
            },
            r"falls back to 'cc'.*Did you mean 'c'",
        ),
        (
            {
                "routes": {
                    "c": {
                        "deployments": [{"provider": "local", "model": "m"}],
                        "strategy": "fastest",
                    }
                }
            },
            r"routes.c.strategy = 'fastest'",
        ),
        ({"routes": {}}, r"routes"),
        ([1, 2], "must be a mapping"),
    ],
)
def test_bad_configuration_names_the_key_and_value(data, message):
    with pytest.raises(ConfigError, match=message):
        load_config(data)


def test_a_missing_or_broken_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("routes: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


class Fixed:
    name = "openai"

    def __init__(self) -> None:
        self.seen: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.seen.append(request)
        return ChatResponse("call me at 555-0100", request.model)

    async def aclose(self) -> None:
        return None


class Redact:
    """A stand-in guardrail: rewrites the prompt before, and the answer after."""

    def __init__(self, spec: dict[str, str]) -> None:
        self.spec = spec

    def before(self, call: CallContext) -> None:
        call.messages = [
            {**m, "content": m["content"].replace("ada@example.com", "<EMAIL>")}
            for m in call.messages
        ]

    def after(self, call: CallContext, response: ChatResponse) -> None:
        response.content = response.content.replace("555-0100", "<PHONE>")


def test_route_guardrails_come_from_the_registered_factory_and_rewrite_both_ways():
    made: list[tuple[str, object]] = []

    def factory(route: str, spec: object) -> Redact:
        made.append((route, spec))
        return Redact(spec)  # type: ignore[arg-type]

    register_guardrail_factory(factory)
    config = load_config(
        {
            "routes": {
                "chat": {
                    "deployments": [
                        {"provider": "openai", "model": "m", "api_base": "http://x/v1"}
                    ],
                    "guardrails": [{"pii": "redact"}],
                }
            }
        }
    )
    provider = Fixed()
    gateway = Gateway(config, provider_factory=lambda d: provider)  # type: ignore[arg-type, return-value]
    answer = asyncio.run(
        gateway.chat("chat", [{"role": "user", "content": "mail ada@example.com"}])
    )
    assert made == [("chat", {"pii": "redact"})]
    assert provider.seen[0].messages[0]["content"] == "mail <EMAIL>"  # redacted before it left
    assert answer.content == "call me at <PHONE>"


def test_the_documented_configuration_is_valid():
    import re

    import yaml

    page = (Path(__file__).resolve().parents[2] / "docs" / "genai-gateway.md").read_text()
    block = next(
        b
        for b in re.findall(r"^```yaml\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
        if "routes:" in b
    )
    config = load_config(yaml.safe_load(block))
    assert set(config.routes) == {"chat", "chat-local", "embed"}
    assert config.routes["chat"].cache.semantic.embed_route == "embed"
    assert config.limits[1].requests == 600 and config.api_keys[0].user == "ada"
