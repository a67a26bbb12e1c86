"""Streams: events from message brokers, checked, scored and acted on as they arrive.

Sources and sinks are addressed by URL (RabbitMQ, NATS JetStream, MQTT, Redis Streams).
"""

from __future__ import annotations

from mloop.streams.address import Address, dead_letter_url, parse_url
from mloop.streams.brokers import sink, source
from mloop.streams.protocol import Message, Sink, Source

__all__ = [
    "Address",
    "Message",
    "Sink",
    "Source",
    "dead_letter_url",
    "parse_url",
    "sink",
    "source",
]
