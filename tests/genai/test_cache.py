"""Exact and semantic caches: hits are free, and never cross users or workspaces."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mloop.core.principal import Principal
from mloop.genai.gateway import Gateway, load_config
from mloop.genai.gateway.cache import RedisCache, SQLiteCache
from mloop.genai.providers import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Usage,
)
from tests.conftest import IN_CI, REDIS_URL

ADA = Principal("ada", workspace="w1")
BOB = Principal("bob", workspace="w1")
ADA_ELSEWHERE = Principal("ada", workspace="w2")


class Counting:
    """Chat answers numbered by call; embeddings are letter counts (similar text, similar vector)."""

    name = "openai"

    def __init__(self) -> None:
        self.chats = 0
        self.embeds = 0

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.chats += 1
        return ChatResponse(f"answer {self.chats}", request.model, "stop", Usage(5, 5))

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        self.embeds += 1
        vectors = []
        for text in request.inputs:
            counts = np.zeros(26)
            for ch in text.lower():
                if "a" <= ch <= "z":
                    counts[ord(ch) - 97] += 1
            vectors.append(counts.tolist())
        return EmbeddingResponse(vectors, request.model, Usage(3, 0))

    async def aclose(self) -> None:
        return None


def make(cache: Any, exact: bool = True, semantic: float | None = None) -> tuple[Gateway, Counting]:
    route: dict[str, Any] = {
        "deployments": [{"provider": "openai", "model": "m", "api_base": "http://x/v1"}]
    }
    route["cache"] = {"exact": exact, "ttl_seconds": 60}
    if semantic is not None:
        route["cache"]["semantic"] = {"embed_route": "embed", "threshold": semantic}
    config = load_config(
        {
            "routes": {
                "chat": route,
                "embed": {
                    "deployments": [{"provider": "openai", "model": "e", "api_base": "http://x/v1"}]
                },
            }
        }
    )
    provider = Counting()
    return Gateway(config, provider_factory=lambda d: provider, cache=cache), provider  # type: ignore[arg-type, return-value]


def ask(gateway: Gateway, text: str, who: Principal, **params: Any) -> str:
    return asyncio.run(
        gateway.chat("chat", [{"role": "user", "content": text}], principal=who, **params)
    ).content


@pytest.fixture(params=["sqlite", "redis"])
def cache(request, tmp_path: Path):
    if request.param == "sqlite":
        yield SQLiteCache(tmp_path / "cache.db")
        return
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).ping()
    except Exception:
        if IN_CI:
            raise
        pytest.skip("Redis is not running")
    yield RedisCache(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")


def _fresh(cache: Any) -> Any:
    # a Redis client's pool belongs to one event loop: each asyncio.run gets a new client
    if isinstance(cache, RedisCache):
        return RedisCache(REDIS_URL, prefix=cache._prefix)
    return cache


def test_the_exact_cache_answers_the_same_user_and_prompt_once(cache):
    gateway, provider = make(cache)
    assert ask(gateway, "capital of France?", ADA, max_tokens=5) == "answer 1"
    gateway.cache = _fresh(cache)
    assert ask(gateway, "capital of France?", ADA, max_tokens=5) == "answer 1"  # a hit
    assert provider.chats == 1
    gateway.cache = _fresh(cache)
    assert ask(gateway, "capital of France?", ADA, max_tokens=6) == "answer 2"  # other params


def test_the_exact_cache_never_crosses_users_or_workspaces(cache):
    gateway, provider = make(cache)
    answers = []
    for who in (ADA, BOB, ADA_ELSEWHERE):
        gateway.cache = _fresh(cache)
        answers.append(ask(gateway, "same prompt", who))
    assert answers == ["answer 1", "answer 2", "answer 3"] and provider.chats == 3


def test_the_semantic_cache_answers_a_similar_prompt_of_the_same_user(cache):
    gateway, provider = make(cache, exact=False, semantic=0.95)
    assert ask(gateway, "What is the capital of France?", ADA) == "answer 1"
    gateway.cache = _fresh(cache)
    assert ask(gateway, "what is the capital of france", ADA) == "answer 1"  # same letters
    gateway.cache = _fresh(cache)
    assert ask(gateway, "Tell me a joke about penguins", ADA) == "answer 2"  # not similar
    gateway.cache = _fresh(cache)
    assert ask(gateway, "What is the capital of France?", BOB) == "answer 3"  # another user
    assert provider.chats == 3 and provider.embeds == 4


def test_caches_are_off_by_default():
    config = load_config(
        {"routes": {"chat": {"deployments": [{"provider": "local", "model": "smollm2-135m"}]}}}
    )
    route = config.routes["chat"]
    assert route.cache.exact is False and route.cache.semantic is None


def test_the_sqlite_cache_keeps_at_most_max_entries(tmp_path: Path):
    cache = SQLiteCache(tmp_path / "c.db", max_entries=10)

    async def fill():
        for i in range(25):
            await cache.put(f"k{i}", ChatResponse(str(i), "m"), 60)
        return await cache.get("k0"), await cache.get("k24")

    oldest, newest = asyncio.run(fill())
    assert oldest is None and newest.content == "24"
    (count,) = cache._db.execute("SELECT count(*) FROM gateway_cache").fetchone()
    assert count == 10
