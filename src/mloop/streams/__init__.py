"""Streams: events from message brokers, checked, scored and acted on as they arrive.

>>> from mloop import streams
>>> streams.run("models:/delays@champion",
...             source="nats://127.0.0.1:4222?subject=flights&stream=FLIGHTS",
...             sink="nats://127.0.0.1:4222?subject=scores&stream=SCORES")

Sources and sinks are addressed by URL (RabbitMQ, NATS JetStream, MQTT, Redis Streams);
``mloop stream run`` is the same from the command line. See docs/streams.md.
"""

from __future__ import annotations

from mloop.streams.address import Address, dead_letter_url, parse_url
from mloop.streams.brokers import sink, source
from mloop.streams.ledger import Ledger, RedisLedger, SqliteLedger
from mloop.streams.metrics import StreamMetrics
from mloop.streams.protocol import Message, Sink, Source
from mloop.streams.quality import QualityWindow, StreamQuality
from mloop.streams.records import DeadLetter
from mloop.streams.runner import StreamRunner, run, run_async
from mloop.streams.windows import WindowAggregator, WindowUpdate

__all__ = [
    "Address",
    "DeadLetter",
    "Ledger",
    "Message",
    "QualityWindow",
    "RedisLedger",
    "Sink",
    "Source",
    "SqliteLedger",
    "StreamMetrics",
    "StreamQuality",
    "StreamRunner",
    "WindowAggregator",
    "WindowUpdate",
    "dead_letter_url",
    "parse_url",
    "run",
    "run_async",
    "sink",
    "source",
]
