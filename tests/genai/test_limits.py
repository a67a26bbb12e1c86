"""Budgets and rate limits: reserved before a call, settled after, never overspent."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from mloop.genai.gateway import Gateway, RateLimited, load_config
from mloop.genai.gateway.accounting import UsageLedger
from mloop.genai.gateway.config import Limit
from mloop.genai.gateway.limits import (
    Counter,
    MemoryLimiter,
    RedisLimiter,
    counters_for,
    estimate_input_tokens,
)
from mloop.genai.providers import ChatRequest, ChatResponse, Usage
from tests.conftest import IN_CI, REDIS_URL

USER = [{"role": "user", "content": "hello"}]


class Echo:
    """A provider that answers after a short pause and reports fixed usage."""

    name = "openai"

    def __init__(self, input_tokens: int = 10, output_tokens: int = 20) -> None:
        self.usage = Usage(input_tokens, output_tokens)
        self.calls = 0

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        await asyncio.sleep(0.01)  # calls overlap: every one reserves before any settles
        return ChatResponse("ok", request.model, "stop", self.usage)

    async def aclose(self) -> None:
        return None


def gateway(
    limits: list[dict[str, Any]], provider: Echo, limiter: Any = None
) -> tuple[Gateway, UsageLedger]:
    config = load_config(
        {
            "routes": {
                "chat": {
                    "deployments": [
                        {"provider": "openai", "model": "m", "api_base": "http://x/v1"}
                    ],
                    "max_tokens": 20,
                }
            },
            "prices": {
                "m": {"input_per_1m": 100.0, "output_per_1m": 200.0}
            },  # USD per million tokens
            "limits": limits,
        }
    )
    ledger = UsageLedger()
    return Gateway(
        config, hooks=[ledger], provider_factory=lambda d: provider, limiter=limiter
    ), ledger  # type: ignore[arg-type, return-value]


async def burst(gw: Gateway, n: int, **kwargs: Any) -> tuple[int, list[RateLimited]]:
    results = await asyncio.gather(
        *(gw.chat("chat", USER, **kwargs) for _ in range(n)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RateLimited)]
    others = [r for r in results if isinstance(r, BaseException) and not isinstance(r, RateLimited)]
    assert not others
    return n - len(refused), refused


def test_many_concurrent_calls_never_overspend_a_small_budget():
    provider = Echo()
    worst = 100.0 * estimate_input_tokens(USER) / 1e6 + 200.0 * 20 / 1e6  # what a call reserves
    budget = 0.25
    gw, ledger = gateway([{"scope": "user", "period": "day", "cost": budget}], provider)
    ok, refused = asyncio.run(burst(gw, 200))
    # reservations are upper bounds: exactly floor(budget / worst) calls fit at once
    assert ok == int(budget // worst) == provider.calls == 44
    assert ledger.totals(user="anonymous").cost <= budget
    assert refused and "Limit user:*/day reached for user 'anonymous'" in str(refused[0])
    assert "USD" in str(refused[0]) and refused[0].limit == "user:*/day"


def test_settling_returns_the_unused_reservation():
    provider = Echo(input_tokens=1, output_tokens=1)  # answers far smaller than reserved
    gw, ledger = gateway([{"scope": "user", "period": "day", "cost": 0.025}], provider)

    async def sequential():
        for _ in range(60):
            await gw.chat("chat", USER)

    asyncio.run(sequential())  # 60 calls x 0.0003 USD = 0.018: under budget once settled
    assert ledger.totals().calls == 60  # without settling, the 5th reservation would fail
    assert ledger.totals().cost == pytest.approx(60 * 0.0003)


def test_a_request_rate_limit_per_workspace_counts_requests():
    provider = Echo()
    gw, _ = gateway(
        [{"scope": "workspace", "key": "default", "period": "minute", "requests": 5}], provider
    )
    ok, refused = asyncio.run(burst(gw, 12))
    assert ok == 5 and len(refused) == 7
    assert "5 of 5 requests used" in str(refused[0]) and refused[0].retry_after <= 60


def test_a_token_limit_counts_the_upper_bound_then_the_actual_tokens():
    provider = Echo(input_tokens=10, output_tokens=5)
    gw, _ = gateway([{"scope": "route", "key": "chat", "period": "hour", "tokens": 100}], provider)
    reserved = estimate_input_tokens(USER) + 20

    async def go():
        await gw.chat("chat", USER)  # settles at 15 tokens
        counter = counters_for(gw.config.limits, {"route": "chat"}, __import__("time").time())[0]
        return await gw.limiter.ausage(counter)

    requests, tokens, _ = asyncio.run(go())
    assert (requests, tokens) == (1, 15)
    assert reserved > 15


def test_limits_apply_only_to_their_subject():
    limits = [Limit(scope="user", key="ada", requests=1)]
    assert [c.subject for c in counters_for(limits, {"user": "ada"}, 0)] == ["ada"]
    assert counters_for(limits, {"user": "bob"}, 0) == []


def test_an_old_window_is_dropped_when_a_new_one_starts():
    limiter = MemoryLimiter()
    limit = Limit(scope="user", period="second", requests=1)
    asyncio.run(limiter.reserve([Counter(limit, "ada", 1)], 1, 0))
    asyncio.run(limiter.reserve([Counter(limit, "ada", 2)], 1, 0))
    assert len(limiter._counts) == 1  # memory stays bounded however long it runs


def test_a_limit_needs_something_to_limit():
    with pytest.raises(Exception, match="at least one of requests, tokens or cost"):
        load_config(
            {
                "routes": {"a": {"deployments": [{"provider": "local", "model": "smollm2-135m"}]}},
                "limits": [{"scope": "user"}],
            }
        )


@pytest.fixture
def redis_limiter():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).ping()
    except Exception:
        if IN_CI:
            raise
        pytest.skip("Redis is not running")
    limiter = RedisLimiter(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:{os.getpid()}:")
    return limiter


@pytest.mark.redis
def test_redis_limits_hold_under_concurrency(redis_limiter):
    provider = Echo()
    worst = 100.0 * estimate_input_tokens(USER) / 1e6 + 200.0 * 20 / 1e6
    gw, ledger = gateway(
        [{"scope": "user", "period": "day", "cost": 0.25}], provider, limiter=redis_limiter
    )

    async def go():
        try:
            return await burst(gw, 150)
        finally:
            await redis_limiter.aclose()

    ok, refused = asyncio.run(go())
    # over the network, early calls settle (0.005 USD used of 0.0056 reserved) while later
    # ones reserve: a few more fit than in one burst, but never more than the budget holds
    actual = (10 * 100.0 + 20 * 200.0) / 1e6
    assert int(0.25 // worst) <= ok == provider.calls <= int(0.25 // actual)
    assert ledger.totals().cost <= 0.25 and "user:*/day" in str(refused[0])


def test_tool_definitions_count_in_the_reservation():
    provider = Echo()
    gw, _ = gateway(
        [{"scope": "route", "key": "chat", "period": "hour", "tokens": 10_000}], provider
    )
    tools = [{"type": "function", "function": {"name": "lookup_flight", "description": "x" * 500}}]

    async def go():
        reservation = await gw.reserve(gw.context("chat", messages=USER, params={"tools": tools}))
        return reservation.tokens

    assert asyncio.run(go()) > estimate_input_tokens(USER) + 20 + 500
