"""``mloop server`` with the gateway and the OTLP ingest, behind the server's tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openai
import pytest

import mloop.genai as genai
from mloop.genai.tracing.writer import writer
from mloop.server.app import create_app
from mloop.server.auth import accounts, tokens
from mloop.store import get_store
from tests.genai.upstream import FakeUpstream, Served

SPAN = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "app"}}]},
            "scopeSpans": [
                {
                    "spans": [
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "name": "retrieve",
                            "startTimeUnixNano": "1700000000000000000",
                            "endTimeUnixNano": "1700000000100000000",
                            "attributes": [
                                {"key": "mloop.route", "value": {"stringValue": "otlp-route"}}
                            ],
                        }
                    ]
                }
            ],
        }
    ]
}


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    upstream: FakeUpstream

    def openai(self, who: str) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.url + "/v1", api_key=self.tokens[who], max_retries=0, timeout=10
        )


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream("primary").start()
    yield fake
    fake.stop()


@pytest.fixture
def server(upstream: FakeUpstream) -> Iterator[Server]:
    writer.clear()
    store = get_store()
    members = {
        "ada": ("default", "editor", ("read", "write", "gateway")),
        "gus": ("team-g", "viewer", ("gateway",)),  # gateway only, in another workspace
        "ed": ("default", "editor", ("read", "write")),  # no gateway scope
        "vi": ("default", "viewer", ("read",)),
    }
    secrets = {}
    for name, (workspace, role, scopes) in members.items():
        accounts.create(store, name, password=f"{name}-password", workspace=workspace, role=role)
        secrets[name], _ = tokens.create(store, name, scopes)
    section = {
        "routes": {
            "chat": {
                "deployments": [
                    {"provider": "openai", "model": "gpt-x", "api_base": upstream.base}
                ],
                "guardrails": [{"pii": "redact"}],
            }
        }
    }
    with Served(create_app(gateway=section)) as served:
        yield Server(served.url, secrets, upstream)
    writer.clear()


def test_the_openai_client_calls_the_gateway_with_a_gateway_token(server: Server) -> None:
    answer = server.openai("ada").chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "mail ada@example.com"}]
    )
    assert answer.choices[0].message.content == "primary: mail <EMAIL_ADDRESS>"
    assert server.upstream.requests[0]["messages"][0]["content"] == "mail <EMAIL_ADDRESS>"
    assert [m.id for m in server.openai("gus").models.list()] == ["chat"]
    [call] = genai.search_traces(route="chat")
    assert (call.user, call.workspace, call.status) == ("ada", "default", "ok")


def test_a_token_without_the_gateway_scope_gets_403(server: Server) -> None:
    with pytest.raises(openai.PermissionDeniedError, match="needs 'gateway'"):
        server.openai("ed").chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.AuthenticationError):
        server.openai("ed").with_options(api_key="mlp_not-a-token").models.list()
    missing = httpx.post(server.url + "/v1/chat/completions", json={"model": "chat"})
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    assert server.upstream.requests == []


def test_otlp_ingest_needs_a_write_token(server: Server) -> None:
    url = server.url + "/v1/traces"

    def post(who: str | None) -> int:
        headers = {"Authorization": f"Bearer {server.tokens[who]}"} if who else {}
        return httpx.post(url, json=SPAN, headers=headers).status_code

    assert post(None) == 401
    assert post("vi") == 403  # a viewer
    assert post("gus") == 403  # a gateway-only token
    assert genai.search_traces(route="otlp-route") == []
    assert post("ada") == 200
    [span] = genai.search_traces(route="otlp-route")
    assert span.name == "retrieve" and span.trace_id == "5b8efff798038103d269b633813fc60c"


def test_without_a_gateway_section_the_server_has_no_gateway_routes() -> None:
    paths = create_app(auth=False, gateway={}).openapi()["paths"]
    assert "/v1/traces" in paths and "/v1/chat/completions" not in paths


def test_the_gateway_section_of_mloop_toml_mounts_the_gateway(mloop_home, upstream) -> None:
    (mloop_home / "mloop.toml").write_text(
        "[gateway.routes.chat]\n"
        f'deployments = [{{provider = "openai", model = "gpt-x", api_base = "{upstream.base}"}}]\n'
    )
    app = create_app(auth=False)
    assert "/v1/chat/completions" in app.openapi()["paths"]
    with Served(app) as served:
        client = openai.OpenAI(base_url=served.url + "/v1", api_key="unused", max_retries=0)
        answer = client.chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}]
        )
    assert answer.choices[0].message.content == "primary: hi"
