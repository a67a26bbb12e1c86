"""MQTT with paho-mqtt: ``mqtt://127.0.0.1:1883?topic=flights&qos=1``.

The consumer keeps a persistent session (``clean_session=False`` under a stable
``client_id``, default ``mloop-<group>-<topic>``) and acknowledges a QoS 1 message only
after processing, so the broker redelivers what was not acknowledged when the consumer
comes back; the broker's in-flight window (Mosquitto: 20 messages) is the backpressure.
With ``group=`` the subscription is shared (``$share/<group>/<topic>``) among processes.
MQTT 3.1.1 has no message headers: the idempotency key travels in the JSON body (``id``).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.streams.address import Address
from mloop.streams.protocol import Message, drain


class _Connection:
    def __init__(self, address: Address) -> None:
        self.address = address
        self.url = address.url
        self.topic = address.name
        self.qos = address.integer("qos", 1)
        if self.qos not in (0, 1, 2):
            raise InvalidInput(f"stream URL {address.safe!r}: qos={self.qos} must be 0, 1 or 2.")
        self.client: Any = None

    async def _connect(
        self, client_id: str, persistent: bool, on_connect: Any = None, on_message: Any = None
    ) -> None:
        import paho.mqtt.client as mqtt

        loop = asyncio.get_running_loop()
        connected: asyncio.Future[int] = loop.create_future()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            manual_ack=persistent,
        )
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        client.reconnect_delay_set(1, 5)

        def connect_callback(cl: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if on_connect is not None and not reason.is_failure:
                on_connect(cl)
            code = int(reason.value)

            def settle() -> None:
                if not connected.done():
                    connected.set_result(code)

            loop.call_soon_threadsafe(settle)

        client.on_connect = connect_callback
        if on_message is not None:  # before connecting: a resumed session sends at once
            client.on_message = on_message
        self.client = client
        await asyncio.to_thread(client.connect, self.address.host, self.address.port or 1883, 30)
        client.loop_start()
        code = await asyncio.wait_for(connected, 10)
        if code != 0:
            raise ConnectionError(
                f"MQTT broker {self.address.safe} refused the connection ({code})"
            )

    async def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None


class MqttSource(_Connection):
    """A persistent-session subscriber that acknowledges after processing."""

    def __init__(self, address: Address) -> None:
        super().__init__(address)
        default_id = "mloop-" + re.sub(r"[^A-Za-z0-9_-]", "_", f"{address.group}-{self.topic}")
        self.client_id = address.params.get("client_id") or default_id
        shared = "group" in address.params
        self.filter = f"$share/{address.group}/{self.topic}" if shared else self.topic
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()

    async def open(self) -> None:
        loop = asyncio.get_running_loop()

        def on_message(_c: Any, _u: Any, message: Any) -> None:
            loop.call_soon_threadsafe(self._inbox.put_nowait, message)

        def subscribe(client: Any) -> None:
            client.subscribe(self.filter, self.qos)

        await self._connect(self.client_id, True, subscribe, on_message)

    async def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        batch = await drain(self._inbox, max_messages, timeout)
        return [Message(bytes(m.payload), m, bool(m.dup)) for m in batch]

    async def ack(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if message.handle.qos > 0:
                self.client.ack(message.handle.mid, message.handle.qos)

    async def nack(self, messages: Sequence[Message]) -> None:
        """MQTT cannot refuse one message: reconnect, so the broker sends again what is unacked."""
        while not self._inbox.empty():
            self._inbox.get_nowait()
        await asyncio.to_thread(self.client.reconnect)


class MqttSink(_Connection):
    """Publishes at the URL's QoS and waits until the broker has each message."""

    async def open(self) -> None:
        await self._connect(f"mloop-sink-{uuid.uuid4().hex[:12]}", False)

    async def publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        infos = [self.client.publish(self.topic, body, qos=self.qos) for _, body in messages]

        def wait() -> None:
            for info in infos:
                info.wait_for_publish(timeout=30)
                if not info.is_published() and self.qos > 0:
                    raise ConnectionError(f"MQTT broker {self.address.safe} did not confirm")

        await asyncio.to_thread(wait)
