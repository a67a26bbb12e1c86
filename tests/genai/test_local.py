"""The local provider: SmolLM2 for chat and MiniLM for embeddings, in-process, offline."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from mloop.core.errors import ConfigError, InvalidInput
from mloop.genai.gateway import Gateway, load_config
from mloop.genai.providers import ChatRequest, EmbeddingRequest, LocalProvider

pytest.importorskip("onnxruntime")


def test_an_unknown_local_model_names_the_choices():
    with pytest.raises(ConfigError, match=r"no model 'smollm2'.*Did you mean 'smollm2-135m'"):
        LocalProvider("smollm2")


def test_a_chat_model_makes_no_embeddings():
    with pytest.raises(InvalidInput, match="answers chats"):
        asyncio.run(LocalProvider("smollm2-135m").embed(EmbeddingRequest("smollm2-135m", ["x"])))


def test_minilm_embeddings_are_unit_vectors_that_rank_meaning(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    provider = LocalProvider("all-minilm-l6-v2")
    texts = [
        "The flight was delayed by a storm.",
        "Bad weather held the plane at the gate.",
        "I like pasta with basil.",
    ]
    result = asyncio.run(provider.embed(EmbeddingRequest("all-minilm-l6-v2", texts)))
    vectors = np.asarray(result.vectors)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2
    assert result.usage.input_tokens > 20


@pytest.mark.slow
@pytest.mark.xdist_group("smollm2")  # one worker loads the model once for both
def test_smollm2_answers_through_the_gateway_and_streams(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    gateway = Gateway(
        load_config(
            {"routes": {"local": {"deployments": [{"provider": "local", "model": "smollm2-135m"}]}}}
        )
    )
    question = [{"role": "user", "content": "What is the capital of France?"}]

    async def go():
        answer = await gateway.chat("local", question, max_tokens=12, temperature=0)
        parts = [
            c.delta
            async for c in gateway.stream_chat("local", question, max_tokens=12, temperature=0)
        ]
        return answer, "".join(parts)

    answer, streamed = asyncio.run(go())
    assert "Paris" in answer.content
    assert streamed == answer.content  # greedy decoding: the same text either way
    assert answer.usage.input_tokens > 5 and 0 < answer.usage.output_tokens <= 12
    request = ChatRequest("smollm2-135m", question, {"max_tokens": 3})
    short = asyncio.run(LocalProvider("smollm2-135m").chat(request))
    assert short.finish_reason == "length" and short.usage.output_tokens == 3


def test_the_openai_client_gets_local_embeddings_through_the_gateway(monkeypatch):
    import openai

    from mloop.genai.gateway import create_gateway_app
    from tests.genai.upstream import Served

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = load_config(
        {"routes": {"embed": {"deployments": [{"provider": "local", "model": "all-minilm-l6-v2"}]}}}
    )
    with Served(create_gateway_app(config)) as served:
        client = openai.OpenAI(
            base_url=served.url + "/v1", api_key="unused-on-loopback", max_retries=0
        )
        result = client.embeddings.create(
            model="embed", input=["a delayed flight", "a late plane", "basil pasta"]
        )
    vectors = np.asarray([d.embedding for d in result.data])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert result.usage.prompt_tokens > 6


@pytest.mark.slow
@pytest.mark.xdist_group("smollm2")  # one worker loads the model once for both
def test_the_openai_client_chats_with_smollm2_through_the_gateway(monkeypatch):
    import openai

    from mloop.genai.gateway import create_gateway_app
    from tests.genai.upstream import Served

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = load_config(
        {"routes": {"local": {"deployments": [{"provider": "local", "model": "smollm2-135m"}]}}}
    )
    question = [{"role": "user", "content": "What is the capital of France?"}]
    with Served(create_gateway_app(config)) as served:
        client = openai.OpenAI(
            base_url=served.url + "/v1", api_key="unused", max_retries=0, timeout=600
        )
        answer = client.chat.completions.create(
            model="local", messages=question, max_tokens=12, temperature=0
        )
        stream = client.chat.completions.create(
            model="local", messages=question, max_tokens=12, temperature=0, stream=True
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert "Paris" in answer.choices[0].message.content
    assert streamed == answer.choices[0].message.content
