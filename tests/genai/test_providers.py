"""The OpenAI-compatible provider's translation (pure) and transport (against a fake)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from mloop.genai.providers import (
    ChatRequest,
    EmbeddingRequest,
    OpenAICompatible,
    ProviderError,
    make_provider,
)
from mloop.genai.providers.openai import (
    DONE,
    chat_payload,
    parse_chat,
    parse_embeddings,
    parse_stream_line,
)
from tests.genai.upstream import FakeUpstream


def test_chat_payload_passes_known_params_and_drops_the_rest():
    request = ChatRequest(
        "gpt-4o-mini",
        [{"role": "user", "content": "hi"}],
        {"temperature": 0.2, "max_tokens": 5, "bogus": 1},
    )
    body = chat_payload(request, stream=True)
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "max_tokens": 5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_parse_chat_reads_content_usage_and_finish_reason():
    raw = orjson.dumps(
        {
            "id": "x1",
            "model": "m",
            "choices": [
                {"message": {"role": "assistant", "content": "Paris"}, "finish_reason": "length"}
            ],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2},
        }
    )
    response = parse_chat(raw)
    assert (response.content, response.finish_reason, response.id) == ("Paris", "length", "x1")
    assert (
        response.usage.input_tokens,
        response.usage.output_tokens,
        response.usage.total_tokens,
    ) == (7, 2, 9)


def test_parse_chat_without_choices_is_a_retryable_provider_error():
    with pytest.raises(ProviderError, match="without choices") as info:
        parse_chat(b'{"error": "x"}')
    assert info.value.retryable


def test_parse_stream_line_handles_chunks_done_comments_and_errors():
    chunk = parse_stream_line(
        'data: {"choices":[{"delta":{"content":"Hel"},"finish_reason":null}]}'
    )
    assert chunk.delta == "Hel" and chunk.finish_reason is None
    usage = parse_stream_line(
        'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}'
    )
    assert usage.usage.total_tokens == 7
    assert parse_stream_line("data: [DONE]") is DONE
    assert parse_stream_line(": keep-alive") is None
    assert parse_stream_line("") is None
    with pytest.raises(ProviderError, match="overloaded"):
        parse_stream_line('data: {"error": {"message": "overloaded"}}')


def test_parse_embeddings_orders_rows_by_index():
    raw = {
        "data": [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}],
        "usage": {"prompt_tokens": 4},
    }
    result = parse_embeddings(raw)
    assert result.vectors == [[1.0], [2.0]] and result.usage.input_tokens == 4


def test_make_provider_refuses_an_unknown_kind():
    with pytest.raises(Exception, match="Unknown provider 'antropic'"):
        make_provider("antropic", "x")


def test_provider_calls_the_upstream_with_the_key(upstream: FakeUpstream):
    provider = OpenAICompatible(upstream.base, "sk-test", timeout=2)

    async def go():
        try:
            answer = await provider.chat(ChatRequest("m1", [{"role": "user", "content": "hello"}]))
            chunks = [
                c
                async for c in provider.stream_chat(
                    ChatRequest("m1", [{"role": "user", "content": "a b c"}])
                )
            ]
            vectors = await provider.embed(EmbeddingRequest("e1", ["abc", "de"]))
            return answer, chunks, vectors
        finally:
            await provider.aclose()

    answer, chunks, vectors = asyncio.run(go())
    assert answer.content == "primary: hello" and answer.usage.total_tokens == 15
    assert "".join(c.delta for c in chunks) == "primary: a b c"
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage.output_tokens == 4
    assert vectors.vectors == [[3.0, 1.0], [2.0, 1.0]]
    assert upstream.headers[0]["authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    ("behaviour", "status", "retryable"),
    [("429", 429, True), ("500", 500, True), ("400", 400, False)],
)
def test_provider_maps_upstream_errors(
    upstream: FakeUpstream, behaviour: str, status: int, retryable: bool
):
    upstream.behaviours = [behaviour]
    provider = OpenAICompatible(upstream.base, timeout=2)

    async def go():
        try:
            await provider.chat(ChatRequest("m", [{"role": "user", "content": "x"}]))
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError, match=f"primary says {behaviour}") as info:
        asyncio.run(go())
    assert (info.value.status, info.value.retryable) == (status, retryable)


def test_provider_times_out_instead_of_hanging(upstream: FakeUpstream):
    upstream.behaviours = ["timeout"]
    provider = OpenAICompatible(upstream.base, timeout=0.3)

    async def go():
        try:
            await provider.chat(ChatRequest("m", [{"role": "user", "content": "x"}]))
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError, match="timed out") as info:
        asyncio.run(go())
    assert info.value.status == 504 and info.value.retryable


def test_a_cut_stream_raises_after_the_chunks_that_arrived(upstream: FakeUpstream):
    upstream.behaviours = ["cut"]
    provider = OpenAICompatible(upstream.base, timeout=2)
    seen: list[str] = []

    async def go():
        try:
            async for chunk in provider.stream_chat(
                ChatRequest("m", [{"role": "user", "content": "one two three four"}])
            ):
                seen.append(chunk.delta)
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError):
        asyncio.run(go())
    assert seen == ["primary:", " one"]
