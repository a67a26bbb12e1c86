"""The OpenAI-compatible API, driven by the stock ``openai`` client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from mloop.core.principal import Principal
from mloop.genai.gateway import create_gateway_app, load_config
from mloop.genai.gateway.errors import AuthenticationFailed
from tests.genai.upstream import FakeUpstream, Served

KEYS = {
    "sk-ada": Principal("ada", workspace="fraud"),
    "sk-bob": Principal("bob", workspace="fraud"),
}


def authenticate(token: str) -> Principal:
    try:
        return KEYS[token]
    except KeyError:
        raise AuthenticationFailed("The API key is not valid.") from None


@pytest.fixture
def gateway_url(upstream: FakeUpstream, backup: FakeUpstream) -> Iterator[str]:
    config = load_config(
        {
            "routes": {
                "chat": {
                    "deployments": [
                        {
                            "provider": "openai",
                            "model": "gpt-x",
                            "api_base": upstream.base,
                            "timeout": 1,
                        }
                    ],
                    "fallbacks": ["chat-backup"],
                    "retries": 0,
                },
                "chat-backup": {
                    "deployments": [
                        {"provider": "openai", "model": "gpt-y", "api_base": backup.base}
                    ]
                },
                "embed": {
                    "deployments": [
                        {"provider": "openai", "model": "emb", "api_base": upstream.base}
                    ]
                },
            },
            "backoff_seconds": 0,
        }
    )
    with Served(create_gateway_app(config, authenticate)) as served:
        yield served.url


def client(url: str, key: str = "sk-ada") -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=10)


def test_the_openai_client_gets_a_chat_completion(gateway_url, upstream):
    answer = client(gateway_url).chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hi"}], max_tokens=7, temperature=0
    )
    assert answer.choices[0].message.content == "primary: hi"
    assert answer.model == "chat" and answer.usage.total_tokens == 15
    assert upstream.requests[0]["model"] == "gpt-x" and upstream.requests[0]["max_tokens"] == 7


def test_the_openai_client_streams_with_usage(gateway_url):
    stream = client(gateway_url).chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "primary: one two three"
    assert chunks[-1].usage.completion_tokens == 4


def test_a_stream_that_fails_before_the_first_chunk_is_answered_by_the_fallback(
    gateway_url, upstream
):
    upstream.behaviours = ["500"]
    stream = client(gateway_url).chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "x y"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "backup: x y"


def test_a_stream_cut_midway_raises_in_the_client_after_the_partial_text(gateway_url, upstream):
    upstream.behaviours = ["cut"]
    stream = client(gateway_url).chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "a b c d"}], stream=True
    )
    seen: list[str] = []

    def read() -> None:
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIError, match="stopped after"):
        read()
    assert "".join(seen) == "primary: a"


def test_embeddings_and_models(gateway_url):
    c = client(gateway_url)
    result = c.embeddings.create(model="embed", input=["abc", "hello"])  # the client asks base64
    assert [d.embedding for d in result.data] == [[3.0, 1.0], [5.0, 1.0]]
    floats = httpx.post(
        gateway_url + "/v1/embeddings",
        json={"model": "embed", "input": "abcd", "encoding_format": "float"},
        headers={"authorization": "Bearer sk-ada"},
    ).json()
    assert floats["data"][0]["embedding"] == [4.0, 1.0]
    assert sorted(m.id for m in c.models.list()) == ["chat", "chat-backup", "embed"]


def test_a_missing_or_wrong_key_is_401(gateway_url):
    with pytest.raises(openai.AuthenticationError, match="not valid"):
        client(gateway_url, "sk-nobody").models.list()
    response = httpx.get(gateway_url + "/v1/models")
    assert response.status_code == 401 and "Bearer" in response.json()["error"]["message"]


def test_an_unknown_model_is_404_with_a_hint(gateway_url):
    with pytest.raises(openai.NotFoundError, match="Did you mean 'chat'") as info:
        client(gateway_url).chat.completions.create(
            model="chta", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"model": "chat"}', "messages"),
        (
            b'{"model": "chat", "messages": [{"role": "wizard", "content": "x"}]}',
            "messages[0].role",
        ),
        (
            b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": 9}',
            "temperature",
        ),
        (
            b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "max_tokens": -1}',
            "max_tokens",
        ),
        (b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "n": 3}', "n"),
        (
            b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}',
            "stream",
        ),
        (b'{"model": 5, "messages": []}', "model"),
    ],
)
def test_malformed_requests_get_openai_style_400s(gateway_url, body, param):
    response = httpx.post(
        gateway_url + "/v1/chat/completions",
        content=body,
        headers={"authorization": "Bearer sk-ada", "content-type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"]


def test_malformed_embeddings_are_400(gateway_url):
    response = httpx.post(
        gateway_url + "/v1/embeddings",
        json={"model": "embed", "input": [1, 2]},
        headers={"authorization": "Bearer sk-ada"},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "input"


def test_all_upstreams_down_is_503_not_a_hang(gateway_url, upstream, backup):
    upstream.behaviours = ["500"]
    backup.behaviours = ["500"] * 3
    with pytest.raises(openai.InternalServerError) as info:
        client(gateway_url).chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 503
