"""Choosing a deployment: weighted, least-latency or cheapest, skipping those cooling down.

Each deployment keeps a little state in memory: an exponentially weighted latency and the
time until which it cools down after a failure. The choice reads it without locks (the
gateway runs on one event loop per process; a stale read only shifts one choice).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mloop.genai.gateway.config import Deployment
from mloop.genai.providers.base import Provider

__all__ = ["Candidate", "choose", "fallback_chain"]

_EWMA = 0.2


@dataclass
class Candidate:
    """A deployment of a route with its provider, price and health."""

    deployment: Deployment
    provider: Provider
    unit_price: float  # input + output USD per 1M tokens, for cost-based choice
    latency_s: float | None = None  # EWMA of successful calls
    cooldown_until: float = 0.0
    failures: int = field(default=0)

    def record_success(self, seconds: float) -> None:
        self.failures = 0
        self.latency_s = (
            seconds if self.latency_s is None else (1 - _EWMA) * self.latency_s + _EWMA * seconds
        )

    def record_failure(self, cooldown_s: float) -> None:
        self.failures += 1
        self.cooldown_until = time.monotonic() + cooldown_s

    def cooling(self, now: float) -> bool:
        return now < self.cooldown_until


def choose(
    candidates: Sequence[Candidate], strategy: str, tried: set[int], rng: random.Random
) -> Candidate | None:
    """The next deployment to try, or None when every one was tried or is cooling down.

    Deployments not yet tried in this call and not cooling down come first; when all of
    those are used up, a cooling one that was not tried is still better than failing.
    """
    now = time.monotonic()
    fresh = [c for i, c in enumerate(candidates) if i not in tried and not c.cooling(now)]
    if not fresh:
        fresh = [c for i, c in enumerate(candidates) if i not in tried]
        if not fresh:
            return None
    if len(fresh) == 1:
        return fresh[0]
    if strategy == "cost":
        return min(fresh, key=lambda c: c.unit_price)
    if strategy == "least-latency":
        unmeasured = [c for c in fresh if c.latency_s is None]
        if unmeasured:
            return rng.choice(unmeasured)  # measure each one before preferring
        return min(fresh, key=lambda c: c.latency_s or 0.0)
    return rng.choices(fresh, weights=[c.deployment.weight for c in fresh])[0]


def fallback_chain(routes: Mapping[str, Any], name: str) -> list[str]:
    """The route and its fallbacks (and theirs), depth first, each once."""
    order: list[str] = []
    stack = [name]
    while stack:
        current = stack.pop(0)
        if current in order:
            continue
        order.append(current)
        stack[:0] = routes[current].fallbacks
    return order
