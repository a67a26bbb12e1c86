"""Cost and token accounting: the ledger, the Prometheus metrics, limits resumed after a restart."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import REGISTRY

from mloop.core.principal import Principal
from mloop.genai.gateway import RateLimited, load_config
from mloop.genai.gateway.accounting import spent
from mloop.genai.gateway.assemble import open_gateway
from mloop.genai.gateway.hooks import CallContext, Outcome
from mloop.genai.providers import ChatRequest, ChatResponse, Usage
from mloop.store.db import MetadataStore

ADA = Principal("ada", workspace="fraud")


class Priced:
    name = "openai"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return ChatResponse("fine", request.model, "stop", Usage(1000, 500))

    async def aclose(self) -> None:
        return None


def config(route: str, **extra):
    return load_config(
        {
            "routes": {
                route: {
                    "deployments": [
                        {"provider": "openai", "model": "gpt-x", "api_base": "http://x/v1"}
                    ],
                    "max_tokens": 500,
                }
            },
            "prices": {"gpt-x": {"input_per_1m": 2.0, "output_per_1m": 8.0}},
            **extra,
        }
    )


def build(cfg, store=None, hooks=()):
    gateway, ledger = open_gateway(cfg, store=store, hooks=hooks)
    provider = Priced()
    for candidates in gateway._candidates.values():
        for c in candidates:
            c.provider = provider  # type: ignore[assignment]
    return gateway, ledger


def test_every_call_is_priced_from_the_table_and_recorded(tmp_path):
    store = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    gateway, ledger = build(config("acct-chat"), store)
    before = (
        REGISTRY.get_sample_value(
            "mloop_gateway_cost_usd_total",
            {"route": "acct-chat", "deployment": "openai:gpt-x@http://x/v1"},
        )
        or 0.0
    )

    async def go():
        for _ in range(3):
            await gateway.chat("acct-chat", [{"role": "user", "content": "hi"}], principal=ADA)
        await gateway.aclose()

    asyncio.run(go())
    cost = (1000 * 2.0 + 500 * 8.0) / 1e6  # 0.006 USD a call
    assert ledger.totals(user="ada", workspace="fraud").cost == pytest.approx(3 * cost)
    calls, tokens, usd = spent(store, 0, user="ada", route="acct-chat")
    assert (calls, tokens) == (3, 4500) and usd == pytest.approx(3 * cost)
    after = REGISTRY.get_sample_value(
        "mloop_gateway_cost_usd_total",
        {"route": "acct-chat", "deployment": "openai:gpt-x@http://x/v1"},
    )
    assert after - before == pytest.approx(3 * cost)
    ok = REGISTRY.get_sample_value(
        "mloop_gateway_requests_total",
        {
            "route": "acct-chat",
            "deployment": "openai:gpt-x@http://x/v1",
            "workspace": "fraud",
            "status": "ok",
            "cache": "miss",
        },
    )
    assert ok == 3


def test_a_restart_resumes_the_budget_from_the_ledger(tmp_path):
    store = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    limits = {"limits": [{"scope": "user", "period": "day", "cost": 0.015}]}
    gateway, _ = build(config("acct-budget", **limits), store)

    async def spend(gw, n):
        for _ in range(n):
            await gw.chat("acct-budget", [{"role": "user", "content": "hi"}], principal=ADA)

    async def first():
        await spend(gateway, 2)  # 0.012 of 0.015 USD; a call reserves up to 0.004026
        await gateway.aclose()

    asyncio.run(first())
    restarted, _ = build(config("acct-budget", **limits), store)  # a new process, the same ledger

    async def second():
        try:
            await spend(restarted, 1)
        finally:
            await restarted.aclose()

    with pytest.raises(RateLimited, match="user:\\*/day"):
        asyncio.run(second())  # refused only when the 0.012 already spent is remembered


class Recorder:
    def __init__(self) -> None:
        self.outcomes: list[tuple[CallContext, Outcome]] = []

    def on_complete(self, call: CallContext, outcome: Outcome) -> None:
        self.outcomes.append((call, outcome))


def test_on_complete_sees_route_deployment_user_tokens_cost_and_latency():
    recorder = Recorder()
    gateway, _ = build(config("acct-hook"), hooks=[recorder])
    started = time.perf_counter()
    asyncio.run(gateway.chat("acct-hook", [{"role": "user", "content": "hi"}], principal=ADA))
    call, outcome = recorder.outcomes[0]
    assert (call.route, call.served_route, call.deployment, call.provider, call.model) == (
        "acct-hook",
        "acct-hook",
        "openai:gpt-x@http://x/v1",
        "openai",
        "gpt-x",
    )
    assert (call.principal.name, call.principal.workspace, call.stream) == ("ada", "fraud", False)
    assert (outcome.status, outcome.usage.total_tokens, outcome.cache_hit) == ("ok", 1500, False)
    assert outcome.cost == pytest.approx(0.006)
    assert 0 < outcome.latency_s < time.perf_counter() - started + 1e-3
