"""Open a source or a sink from its URL (the scheme picks the broker)."""

from __future__ import annotations

from mloop.streams.address import parse_url
from mloop.streams.jetstream import JetStreamSink, JetStreamSource
from mloop.streams.mqtt import MqttSink, MqttSource
from mloop.streams.protocol import Sink, Source
from mloop.streams.rabbitmq import RabbitMQSink, RabbitMQSource
from mloop.streams.redis_streams import RedisStreamSink, RedisStreamSource

_SOURCES: dict[str, type] = {
    "amqp": RabbitMQSource,
    "amqps": RabbitMQSource,
    "nats": JetStreamSource,
    "mqtt": MqttSource,
    "redis": RedisStreamSource,
}
_SINKS: dict[str, type] = {
    "amqp": RabbitMQSink,
    "amqps": RabbitMQSink,
    "nats": JetStreamSink,
    "mqtt": MqttSink,
    "redis": RedisStreamSink,
}


def source(url: str | Source) -> Source:
    """The source a URL names (not connected yet: ``await src.open()``).

    >>> source("nats://127.0.0.1:4222?subject=flights&stream=FLIGHTS")

    Raises:
        InvalidInput: the URL is not valid (see :func:`mloop.streams.parse_url`).
    """
    if not isinstance(url, str):
        return url
    address = parse_url(url)
    built: Source = _SOURCES[address.scheme](address)
    return built


def sink(url: str | Sink) -> Sink:
    """The sink a URL names (not connected yet: ``await out.open()``).

    Raises:
        InvalidInput: the URL is not valid (see :func:`mloop.streams.parse_url`).
    """
    if not isinstance(url, str):
        return url
    address = parse_url(url)
    built: Sink = _SINKS[address.scheme](address)
    return built
