"""Prometheus metrics of a serving process, in a registry of its own (``GET /metrics``).

Requests and their latency are counted on the hot path with plain integers (no lock, no
label lookup per request) and turned into Prometheus families only when scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
_STATUS = {code: str(code) for code in (200, 400, 404, 413, 415, 422, 429, 500, 503, 504)}


class _Requests:
    """``mloop_requests_total``, ``mloop_request_errors_total`` and the latency histogram."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}  # (model, status) -> requests
        self.latency: dict[str, list[float]] = {}  # model -> [per bucket..., +Inf, sum]

    def observe(self, model: str, status: str, seconds: float | None) -> None:
        key = (model, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        if seconds is None:
            return
        buckets = self.latency.get(model)
        if buckets is None:
            buckets = self.latency[model] = [0.0] * (len(_LATENCY) + 2)
        buckets[bisect_left(_LATENCY, seconds)] += 1
        buckets[-1] += seconds

    def describe(self) -> list[Any]:
        return list(self.collect())

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        requests = CounterMetricFamily(
            "mloop_requests",
            "Prediction requests answered, by graph and HTTP status.",
            labels=["model", "status"],
        )
        errors = CounterMetricFamily(
            "mloop_request_errors",
            "Requests answered with an error, by graph and HTTP status.",
            labels=["model", "status"],
        )
        for (model, status), count in list(self.counts.items()):
            requests.add_metric([model, status], count)
            if int(status) >= 400:
                errors.add_metric([model, status], count)
        latency = HistogramMetricFamily(
            "mloop_request_latency_seconds",
            "Time from receiving a prediction request to its answer.",
            labels=["model"],
        )
        bounds = [*(f"{b}" for b in _LATENCY), "+Inf"]
        for model, buckets in list(self.latency.items()):
            cumulative, total = [], 0.0
            for bound, observed in zip(bounds, buckets, strict=False):
                total += observed
                cumulative.append((bound, total))
            latency.add_metric([model], cumulative, sum_value=buckets[-1])
        yield from (requests, errors, latency)


class ServingMetrics:
    """Requests, latency, errors by status, batch sizes, queue depth and model versions."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = _Requests()
        self.registry.register(self.requests)
        self.batch_rows = Histogram(
            "mloop_batch_rows",
            "Rows per predict call after micro-batching.",
            ["model"],
            buckets=_BATCH,
            registry=self.registry,
        )
        self.queue = Gauge(
            "mloop_queue_depth", "Requests waiting for a batch.", ["model"], registry=self.registry
        )
        self.version = Gauge(
            "mloop_model_version",
            "Version of each model being served.",
            ["graph", "model"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "mloop_model_swaps",
            "Hot swaps to a new model version.",
            ["model"],
            registry=self.registry,
        )
        self.duplicate_ids = Counter(
            "mloop_duplicate_request_ids",
            "Client-chosen request ids sent again (answered and logged; see the docs).",
            ["model"],
            registry=self.registry,
        )
        self.feedback_recorded = Counter(
            "mloop_feedback_labels_recorded",
            "Labels recorded through /v1/feedback.",
            registry=self.registry,
        )
        self.feedback_rejected = Counter(
            "mloop_feedback_rejected",
            "Feedback requests answered with a 4xx (bad body, label outside the domain...).",
            registry=self.registry,
        )
        self.feedback_states = Gauge(
            "mloop_feedback_labels",
            "Stored labels by state: matched to a logged prediction, pending (younger than "
            "the grace period) or unmatched (no server logged the request id).",
            ["model", "state"],
            registry=self.registry,
        )
        self.logged = Gauge(
            "mloop_prediction_log_rows",
            "Rows of the prediction log, by state (written, pending, dropped).",
            ["state"],
            registry=self.registry,
        )

    def observe(self, model: str, status: int, seconds: float) -> None:
        """Count one answered request (and its latency, unless it is an error)."""
        label = _STATUS.get(status) or str(status)
        self.requests.observe(model, label, None if status >= 400 else seconds)

    def set_version(self, graph: str, model: str, version: str) -> None:
        try:
            self.version.labels(graph, model).set(float(version))
        except ValueError:
            self.version.labels(graph, model).set(0)

    def render(self, writer: Any = None) -> bytes:
        from prometheus_client import generate_latest

        if writer is not None:
            self.logged.labels("written").set(writer.written_rows)
            self.logged.labels("pending").set(writer.pending_rows)
            self.logged.labels("dropped").set(writer.dropped_rows)
        return bytes(generate_latest(self.registry))
