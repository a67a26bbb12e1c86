"""A gateway with mloop's standard parts: metrics, the usage ledger, caches, seeded limits.

:class:`~mloop.genai.gateway.engine.Gateway` takes each part as an argument (tests and the
server pass their own); :func:`open_gateway` builds them from the configuration.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from mloop.core.log import get_logger
from mloop.genai.gateway.accounting import UsageLedger, spent_by
from mloop.genai.gateway.cache import open_cache
from mloop.genai.gateway.config import GatewayConfig
from mloop.genai.gateway.engine import Gateway
from mloop.genai.gateway.guarding import TracingHook
from mloop.genai.gateway.limits import Counter, MemoryLimiter
from mloop.genai.gateway.metrics import PrometheusHook
from mloop.store.db import MetadataStore

__all__ = ["open_gateway", "seed_limits"]

_log = get_logger("mloop.genai.gateway")


def seed_limits(limiter: MemoryLimiter, config: GatewayConfig, store: MetadataStore) -> int:
    """Load what each limit's subjects already spent in the current window from the ledger.

    Without it, a restart would forget a day's or a month's spending. Returns the counters set.
    """
    now = time.time()
    seeded = 0
    for limit in config.limits:
        window = int(now // limit.seconds)
        for subject, (calls, tokens, micro) in spent_by(
            store, limit.scope, window * limit.seconds * 1000
        ).items():
            if limit.key in ("*", subject):
                limiter.seed(Counter(limit, subject, window), calls, tokens, micro)
                seeded += 1
    return seeded


def open_gateway(
    config: GatewayConfig, *, store: MetadataStore | None = None, hooks: Sequence[object] = ()
) -> tuple[Gateway, UsageLedger]:
    """A :class:`Gateway` with Prometheus metrics, a usage ledger (in ``store`` if given) and
    a span per call (unless ``tracing: false``).

    The response cache opens when a route turns it on; in-process limits start from what the
    ledger recorded in their current window. Returns the gateway and its ledger (close it).
    """
    ledger = UsageLedger(store)  # closed by Gateway.aclose (it has a close method)
    cache = None
    if any(r.cache.exact or r.cache.semantic for r in config.routes.values()):
        cache = open_cache(config.cache.url, config.cache.max_entries)
    limiter = None
    if config.limits_url is None:
        limiter = MemoryLimiter()
        if store is not None and config.limits:
            count = seed_limits(limiter, config, store)
            _log.info("gateway: %d limit counters resumed from the usage ledger", count)
    standard: list[object] = [PrometheusHook(), ledger]
    if config.tracing:
        standard.append(TracingHook())
    gateway = Gateway(config, hooks=[*hooks, *standard], limiter=limiter, cache=cache)
    return gateway, ledger
