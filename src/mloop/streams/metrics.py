"""Counters of a stream runner, readable in Python and as Prometheus metrics.

``mloop_stream_messages_total``, ``mloop_stream_records_total{outcome}`` (scored,
duplicate, dead_letter), ``mloop_stream_dead_letters_total{reason}``,
``mloop_stream_batches_total``, ``mloop_stream_redeliveries_total`` (batches given back
to the broker after a failure) and, with quality windows, ``mloop_stream_quality_windows_total``,
``mloop_stream_anomalies_total`` and ``mloop_stream_flagged_total``. ``--metrics-port`` serves them over HTTP.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)  # a Prometheus collector: hashed by identity
class StreamMetrics:
    """What a runner did so far (also returned by :func:`mloop.streams.run`)."""

    messages: int = 0
    batches: int = 0
    redeliveries: int = 0
    quality_windows: int = 0  # windows closed by the StreamQuality (quality=)
    anomalies: int = 0  # records its detector flagged
    flagged: int = 0  # records flagged by a check or the detector
    records: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)

    @property
    def scored(self) -> int:
        return self.records["scored"]

    @property
    def dead(self) -> int:
        return self.records["dead_letter"]

    @property
    def duplicates(self) -> int:
        return self.records["duplicate"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "batches": self.batches,
            "redeliveries": self.redeliveries,
            "quality_windows": self.quality_windows,
            "anomalies": self.anomalies,
            "flagged": self.flagged,
            "records": dict(self.records),
            "dead_letters": dict(self.dead_letters),
        }

    # -- Prometheus ----------------------------------------------------------------------

    def describe(self) -> list[Any]:
        return list(self.collect())

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        for name, text, value in (
            ("mloop_stream_messages", "Messages received from the source.", self.messages),
            ("mloop_stream_batches", "Batches processed and acknowledged.", self.batches),
            (
                "mloop_stream_redeliveries",
                "Batches given back to the broker after a failure.",
                self.redeliveries,
            ),
            ("mloop_stream_quality_windows", "Quality windows closed.", self.quality_windows),
            ("mloop_stream_anomalies", "Records the anomaly detector flagged.", self.anomalies),
            ("mloop_stream_flagged", "Records flagged by a check or the detector.", self.flagged),
        ):
            yield CounterMetricFamily(name, text, value=value)
        records = CounterMetricFamily(
            "mloop_stream_records",
            "Records by outcome: scored, duplicate (already done), dead_letter.",
            labels=["outcome"],
        )
        for outcome in ("scored", "duplicate", "dead_letter"):
            records.add_metric([outcome], self.records[outcome])
        yield records
        dead = CounterMetricFamily(
            "mloop_stream_dead_letters",
            "Messages or records sent to the dead-letter destination, by reason.",
            labels=["reason"],
        )
        for reason, count in sorted(self.dead_letters.items()):
            dead.add_metric([reason], count)
        yield dead

    def registry(self) -> Any:
        """A Prometheus registry holding these metrics (to serve or to render)."""
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry(auto_describe=True)
        registry.register(self)
        return registry

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        out: bytes = generate_latest(self.registry())
        return out
