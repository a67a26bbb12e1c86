"""A tiny OpenAI-compatible upstream for the tests, with faults on demand.

``FakeUpstream().start()`` serves on a free loopback port in a thread. Each request pops
the next behaviour from ``behaviours`` (default ``ok``): ``ok``, ``429``, ``500``, ``400``,
``timeout`` (answers after 1.5 s), ``cut`` (a stream closed after two chunks), ``stall`` (a
stream that stops sending after one chunk), ``empty`` (a stream with no chunk).
The answer echoes the last user message, so tests know what to expect.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import orjson
import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """Any ASGI app on uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="error", interface="asgi3"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


class FakeUpstream:
    def __init__(self, name: str = "up") -> None:
        self.name = name
        self.behaviours: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._served = Served(self.app)
        self.port = self._served.port

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeUpstream:
        self._served.__enter__()
        return self

    def stop(self) -> None:
        self._served.__exit__()

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        request = orjson.loads(body) if body else {}
        self.requests.append(request)
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        behaviour = self.behaviours.pop(0) if self.behaviours else "ok"
        if behaviour in ("429", "500", "400"):
            error = {"error": {"message": f"{self.name} says {behaviour}", "type": "test"}}
            await self._json(send, int(behaviour), error)
            return
        if behaviour == "timeout":
            await asyncio.sleep(1.5)
        if scope["path"].endswith("/embeddings"):
            inputs = request["input"]
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0]}
                for i, t in enumerate(inputs)
            ]
            await self._json(
                send,
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": request["model"],
                    "usage": {"prompt_tokens": 3, "total_tokens": 3},
                },
            )
            return
        text = f"{self.name}: {request['messages'][-1]['content']}"
        if not request.get("stream"):
            await self._json(
                send,
                200,
                {
                    "id": "cmpl-1",
                    "object": "chat.completion",
                    "model": request["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                },
            )
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        if behaviour == "empty":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        words = text.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            event = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            await send(
                {
                    "type": "http.response.body",
                    "body": b"data: " + orjson.dumps(event) + b"\n\n",
                    "more_body": True,
                }
            )
            if behaviour == "cut" and i == 1:
                raise RuntimeError("cut")  # uvicorn drops the connection mid-body
            if behaviour == "stall":
                await asyncio.sleep(2)
        final = {
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 10,
                "completion_tokens": len(words),
                "total_tokens": 10 + len(words),
            },
        }
        tail = b"data: " + orjson.dumps(final) + b"\n\ndata: [DONE]\n\n"
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    @staticmethod
    async def _json(send: Any, status: int, body: dict[str, Any]) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": orjson.dumps(body)})
