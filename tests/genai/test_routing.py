"""Routes: choice of deployment, retries with backoff, cooldown, fallbacks, streams that fail."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from mloop.genai.gateway import Gateway, NoDeployment, load_config
from mloop.genai.gateway.config import Deployment
from mloop.genai.gateway.routing import Candidate, choose
from mloop.genai.gateway.streaming import StreamInterrupted
from mloop.genai.providers import ProviderError
from tests.genai.upstream import FakeUpstream

USER = [{"role": "user", "content": "hello there"}]


def two_routes(primary: FakeUpstream, backup: FakeUpstream, **route: Any) -> Gateway:
    config = load_config(
        {
            "routes": {
                "chat": {
                    "deployments": [
                        {
                            "provider": "openai",
                            "model": "m1",
                            "api_base": primary.base,
                            "timeout": 0.5,
                        }
                    ],
                    "fallbacks": ["chat-backup"],
                    **route,
                },
                "chat-backup": {
                    "deployments": [{"provider": "openai", "model": "m2", "api_base": backup.base}],
                    "retries": 0,
                },
            },
            "backoff_seconds": 0.001,
        }
    )
    return Gateway(config, seed=1)


def run(gateway: Gateway, coro: Any) -> Any:
    async def go():
        try:
            return await coro
        finally:
            await gateway.aclose()

    return asyncio.run(go())


def test_retries_a_429_on_the_same_route_then_answers(upstream, backup):
    upstream.behaviours = ["429", "500"]
    gateway = two_routes(upstream, backup, retries=2)
    answer = run(gateway, gateway.chat("chat", USER))
    assert answer.content == "primary: hello there"
    assert len(upstream.requests) == 3 and backup.requests == []


def test_falls_back_to_another_route_when_retries_are_spent(upstream, backup):
    upstream.behaviours = ["500", "500"]
    gateway = two_routes(upstream, backup, retries=1)
    answer = run(gateway, gateway.chat("chat", USER))
    assert answer.content == "backup: hello there"
    assert len(upstream.requests) == 2 and len(backup.requests) == 1


def test_a_timeout_is_retried_elsewhere_and_never_hangs(upstream, backup):
    upstream.behaviours = ["timeout"]
    gateway = two_routes(upstream, backup, retries=0)
    answer = run(gateway, asyncio.wait_for(gateway.chat("chat", USER), 5))
    assert answer.content == "backup: hello there"


def test_a_client_error_is_not_retried_nor_fallen_back(upstream, backup):
    upstream.behaviours = ["400"]
    gateway = two_routes(upstream, backup)
    with pytest.raises(ProviderError, match="primary says 400"):
        run(gateway, gateway.chat("chat", USER))
    assert len(upstream.requests) == 1 and backup.requests == []


def test_when_everything_fails_the_error_names_the_route_and_last_error(upstream, backup):
    upstream.behaviours = ["500"] * 5
    backup.behaviours = ["429"]
    gateway = two_routes(upstream, backup, retries=1)
    with pytest.raises(NoDeployment, match=r"route 'chat'.*backup says 429"):
        run(gateway, gateway.chat("chat", USER))


def test_a_failed_deployment_cools_down_and_the_other_is_chosen(upstream, backup):
    config = load_config(
        {
            "routes": {
                "chat": {
                    "deployments": [
                        {
                            "provider": "openai",
                            "model": "a",
                            "api_base": upstream.base,
                            "weight": 100,
                        },
                        {"provider": "openai", "model": "b", "api_base": backup.base, "weight": 1},
                    ],
                    "retries": 1,
                }
            },
            "backoff_seconds": 0,
            "cooldown_seconds": 60,
        }
    )
    gateway = Gateway(config, seed=3)
    upstream.behaviours = ["500"]

    async def calls():
        return [await gateway.chat("chat", USER) for _ in range(5)]

    answers = run(gateway, calls())
    # the heavy deployment failed once, then cools down: every answer comes from the other
    assert [a.content.split(":")[0] for a in answers] == ["backup"] * 5
    assert len(upstream.requests) == 1


def _candidates(*specs: tuple[str, float, float, float | None]) -> list[Candidate]:
    out = []
    for model, weight, price, latency in specs:
        deployment = Deployment(
            provider="openai", model=model, api_base="http://x/v1", weight=weight
        )
        out.append(Candidate(deployment, provider=None, unit_price=price, latency_s=latency))  # type: ignore[arg-type]
    return out


def test_weighted_choice_follows_the_weights():
    candidates = _candidates(("a", 3, 0, None), ("b", 1, 0, None))
    rng = random.Random(0)
    picks = [choose(candidates, "weighted", set(), rng).deployment.model for _ in range(4000)]
    assert 0.72 < picks.count("a") / 4000 < 0.78


def test_cost_and_latency_choices_pick_the_cheapest_and_the_fastest():
    candidates = _candidates(("a", 1, 5.0, 0.2), ("b", 1, 0.5, 0.9), ("c", 1, 2.0, 0.05))
    rng = random.Random(0)
    assert choose(candidates, "cost", set(), rng).deployment.model == "b"
    assert choose(candidates, "least-latency", set(), rng).deployment.model == "c"
    assert choose(candidates, "least-latency", {2}, rng).deployment.model == "a"
    assert choose(candidates, "cost", {0, 1, 2}, rng) is None


def collect(gateway: Gateway, route: str = "chat") -> tuple[list[str], BaseException | None]:
    parts: list[str] = []

    async def go():
        async for chunk in gateway.stream_chat(route, USER):
            parts.append(chunk.delta)

    try:
        run(gateway, asyncio.wait_for(go(), 10))
    except BaseException as exc:
        return parts, exc
    return parts, None


def test_a_stream_that_fails_before_its_first_chunk_falls_back_transparently(upstream, backup):
    upstream.behaviours = ["500", "empty"]
    gateway = two_routes(upstream, backup, retries=1)
    parts, error = collect(gateway)
    assert error is None
    assert "".join(parts) == "backup: hello there"


def test_a_stream_cut_midway_ends_with_an_error_after_the_partial_answer(upstream, backup):
    upstream.behaviours = ["cut"]
    gateway = two_routes(upstream, backup)
    parts, error = collect(gateway)
    assert "".join(parts) == "primary: hello"
    assert isinstance(error, StreamInterrupted)
    assert backup.requests == []  # part of an answer was sent: no silent switch


def test_a_stream_that_stalls_midway_times_out(upstream, backup):
    upstream.behaviours = ["stall"]
    gateway = two_routes(upstream, backup)
    parts, error = collect(gateway)
    assert parts == ["primary:"]
    assert isinstance(error, StreamInterrupted) and "timed out" in str(error)
