"""An in-process client of served graphs: the server's code, without a socket.

>>> with Graph.from_model("models:/delays@champion").test_client() as client:
...     answer = client.predict({"records": [{"distance": 719, "carrier": "UA"}]})
...     client.post("/v1/feedback", json={"request_id": answer["request_ids"][0], "label": 1})
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mloop.core.errors import MloopError
from mloop.serving.answers import error_body
from mloop.serving.service import Service

if TYPE_CHECKING:
    from mloop.serving.graph import Graph

T = TypeVar("T")
_PREDICT = re.compile(r"^/v1/models/(?P<name>[^/]+)/predict$")


@dataclass(frozen=True)
class TestResponse:
    """What an HTTP call would have answered."""

    status_code: int
    body: Any

    def json(self) -> Any:
        return self.body


class TestClient:
    """Runs a :class:`Service` on an event loop in a background thread."""

    __test__ = False  # not a pytest test class

    def __init__(self, graphs: Sequence[Graph], **options: Any) -> None:
        self.service = Service(graphs, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._closed = False
        self._call(self.service.start())

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def predict(self, body: Any, name: str | None = None) -> dict[str, Any]:
        """The answer to one request; an error raises its :class:`MloopError`."""
        return self._call(self.service.predict(name, body))

    def predict_many(self, bodies: Sequence[Any], name: str | None = None) -> list[Any]:
        """Send requests concurrently (they share batches); errors are returned, not raised."""

        async def send() -> list[Any]:
            return list(
                await asyncio.gather(
                    *(self.service.predict(name, b) for b in bodies), return_exceptions=True
                )
            )

        return self._call(send())

    def post(self, path: str, json: Any = None, content: bytes | None = None) -> TestResponse:
        """``POST`` as the server routes it: predict, /invocations, /v1/feedback."""
        body: Any = content if content is not None else json
        match = _PREDICT.match(path)
        try:
            if match:
                return TestResponse(200, self.predict(body, match["name"]))
            if path == "/invocations":
                answer = self.predict(body)
                return TestResponse(200, {"predictions": answer["predictions"]})
            if path == "/v1/feedback":
                return TestResponse(200, self._call(self.service.feedback(body)))
        except MloopError as exc:
            return TestResponse(*error_body(exc))
        return TestResponse(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path})

    def get(self, path: str) -> TestResponse:
        if path == "/healthz":
            return TestResponse(200, {"status": "ok"})
        if path == "/readyz":
            status = self.service.status()
            return TestResponse(200 if status["ready"] else 503, status)
        if path == "/metrics":
            self.service.feedback_status()
            return TestResponse(200, self.service.metrics.render(self.service.writer).decode())
        if path == "/v1/feedback/status":
            return TestResponse(200, self.service.feedback_status(0.0))
        return TestResponse(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": path})

    def close(self) -> None:
        """Drain, flush the prediction log and stop the loop."""
        if self._closed:
            return
        self._closed = True
        self._call(self.service.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> TestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
