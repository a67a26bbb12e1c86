"""Prometheus metrics of the gateway, as an ``on_complete`` hook (served on ``/metrics``).

Labels are route, deployment, workspace and status: bounded sets an admin configures.
Users are not a label (their number is unbounded); per-user figures are in the ledger.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from mloop.genai.gateway.hooks import CallContext, Outcome

__all__ = ["PrometheusHook"]

REQUESTS = Counter(
    "mloop_gateway_requests",
    "Gateway calls by route, deployment, workspace, status and cache hit.",
    ["route", "deployment", "workspace", "status", "cache"],
)
TOKENS = Counter(
    "mloop_gateway_tokens",
    "Tokens by route, deployment and direction.",
    ["route", "deployment", "direction"],
)
COST = Counter(
    "mloop_gateway_cost_usd", "Cost in US dollars by route and deployment.", ["route", "deployment"]
)
LATENCY = Histogram(
    "mloop_gateway_latency_seconds",
    "Latency of gateway calls, whole answer (streams: until the last chunk).",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class PrometheusHook:
    def on_complete(self, call: CallContext, outcome: Outcome) -> None:
        deployment = call.deployment or "-"
        REQUESTS.labels(
            call.route,
            deployment,
            call.principal.workspace,
            outcome.status,
            "hit" if outcome.cache_hit else "miss",
        ).inc()
        if outcome.usage.input_tokens:
            TOKENS.labels(call.route, deployment, "input").inc(outcome.usage.input_tokens)
        if outcome.usage.output_tokens:
            TOKENS.labels(call.route, deployment, "output").inc(outcome.usage.output_tokens)
        if outcome.cost:
            COST.labels(call.route, deployment).inc(outcome.cost)
        LATENCY.labels(call.route).observe(outcome.latency_s)
