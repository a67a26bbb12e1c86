"""Prometheus metrics of a serving process, in a registry of its own (``GET /metrics``)."""

from __future__ import annotations

from typing import Any

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
_BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServingMetrics:
    """Requests, latency, errors by status, batch sizes, queue depth and model versions."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mloop_requests",
            "Prediction requests answered, by graph and HTTP status.",
            ["model", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "mloop_request_errors",
            "Requests answered with an error, by graph and HTTP status.",
            ["model", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mloop_request_latency_seconds",
            "Time from receiving a prediction request to its answer.",
            ["model"],
            buckets=_LATENCY,
            registry=self.registry,
        )
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
        self._ok: dict[str, tuple[Any, Any]] = {}
        self.logged = Gauge(
            "mloop_prediction_log_rows",
            "Rows of the prediction log, by state (written, pending, dropped).",
            ["state"],
            registry=self.registry,
        )

    def observe(self, model: str, status: int, seconds: float) -> None:
        if status == 200:  # the hot path: label children looked up once per model
            children = self._ok.get(model)
            if children is None:
                children = self._ok[model] = (
                    self.requests.labels(model, "200"),
                    self.latency.labels(model),
                )
            children[0].inc()
            children[1].observe(seconds)
            return
        self.requests.labels(model, str(status)).inc()
        if status >= 400:
            self.errors.labels(model, str(status)).inc()
        else:
            self.latency.labels(model).observe(seconds)

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
