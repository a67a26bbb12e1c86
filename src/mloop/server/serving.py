"""The model server: FastAPI routes over :class:`mloop.serving.Service`.

    mloop serve models:/delays@champion --port 8080
    curl -X POST localhost:8080/v1/models/delays/predict -H 'content-type: application/json' \\
         -d '{"records": [{"distance": 719, "hour": 6, "carrier": "UA"}]}'

Routes: ``POST /v1/models/{name}/predict``, MLflow's ``POST /invocations``,
``POST /v1/feedback``, ``GET /v1/models``, ``/healthz``, ``/readyz``, ``/metrics`` and the
OpenAPI docs at ``/docs``. Bodies are read raw and decoded with orjson (no per-request
pydantic model), limited in size, and every mloop error maps to its HTTP status.

The two prediction routes are answered by a plain ASGI handler placed in front of FastAPI
(:class:`ServingApp`): no middleware stack, routing, ``Request`` object or ``Response``
class per request. FastAPI keeps every other route, the docs and the lifespan, and its
OpenAPI schema still documents the prediction routes.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from mloop.core.log import get_logger
from mloop.server.docs import add_offline_docs, request_example
from mloop.server.guard import TokenGuard, token_guard
from mloop.serving import Limits, Service, error_body
from mloop.serving.errors import PayloadTooLarge, UnsupportedMediaType

if TYPE_CHECKING:
    from mloop.serving import Graph

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_log = get_logger("mloop.server")

TARGET_ENV = "MLOOP_SERVE_TARGET"
OPTIONS_ENV = "MLOOP_SERVE_OPTIONS"

_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": (
                        'One of: {"records": [{...}]}, {"columns": [...], "data": [[...]]}, '
                        "or MLflow's dataframe_split, dataframe_records, instances, inputs. "
                        "Optional request_ids: one string per row."
                    ),
                },
                "example": {"records": [{"field": "value"}]},  # the signature's, once loaded
            }
        },
    }
}
_FEEDBACK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {"request_id": "1f0c…", "label": 1},
            }
        },
    }
}


def _dumps(body: Any) -> bytes:
    import orjson

    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def _json(body: Any, status: int = 200) -> Response:
    return Response(_dumps(body), status_code=status, media_type="application/json")


def _error(exc: Exception) -> Response:
    status, body = _error_answer(exc)
    return _json(body, status)


def _error_answer(exc: Exception) -> tuple[int, dict[str, Any]]:
    status, body = error_body(exc)
    if status == 500:
        _log.error("a prediction request failed: %r", exc)
    return status, body


def _rejected(service: Service, name: str | None, exc: Exception) -> Response:
    """The answer to a body refused before it reached the service, counted in /metrics."""
    status, body = _error_answer(exc)
    service.count_rejected(name, status)
    return _json(body, status)


def _check_content_type(content_type: str) -> None:
    kind = content_type.split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(
            f"content type {content_type or '(none)'!r} is not supported; send the body as JSON "
            "with the header 'Content-Type: application/json'."
        )


def _check_length(declared: str | None, limit: int) -> None:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the request body has {int(declared):,} bytes, over the limit of {limit:,}; "
            "send fewer rows per request."
        )


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is over the limit of {limit:,} bytes; send fewer rows per request."
    )


async def _read_json_body(request: Request, limit: int) -> bytes:
    _check_content_type(request.headers.get("content-type", ""))
    _check_length(request.headers.get("content-length"), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


_JSON_HEADERS = (b"content-type", b"application/json")
_INVOCATIONS = "/invocations"
_PREDICT_PREFIX = "/v1/models/"
_PREDICT_SUFFIX = "/predict"


def _route_path(scope: Scope) -> str:
    """The path the app routes on (without a ``root_path`` the app is mounted under)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and len(path) > len(root) and path[len(root)] == "/":
        return path[len(root) :]
    return path


class _Predict:
    """The raw ASGI handler of ``POST /v1/models/{name}/predict`` and ``POST /invocations``."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.limit = service.limits.max_body_bytes

    @staticmethod
    def match(scope: Scope) -> tuple[bool, str | None]:
        """``(True, name)`` for a prediction route (name None for /invocations)."""
        if scope["method"] != "POST":
            return False, None
        path = _route_path(scope)
        if path == _INVOCATIONS:
            return True, None
        if path.startswith(_PREDICT_PREFIX) and path.endswith(_PREDICT_SUFFIX):
            name = path[len(_PREDICT_PREFIX) : -len(_PREDICT_SUFFIX)]
            if name and "/" not in name:
                return True, name
        return False, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send, name: str | None) -> None:
        content_type = length = request_id = None
        for key, value in scope["headers"]:
            if key == b"content-type":
                content_type = value
            elif key == b"content-length":
                length = value
            elif key == b"x-request-id":
                request_id = value.decode("latin-1")
        counted = False  # Service.predict counts the requests it sees in /metrics
        try:
            _check_content_type(content_type.decode("latin-1") if content_type else "")
            _check_length(length.decode("latin-1") if length else None, self.limit)
            body = await self._body(receive)
            if body is None:
                return  # the client left before sending its body
            counted = True
            answer = await self.service.predict(name, body, request_id)
            status = 200
            if name is None:
                answer = {"predictions": answer["predictions"]}
        except Exception as exc:
            status, answer = _error_answer(exc)
            if not counted:  # a 413 or 415 answered before the body reached the service
                self.service.count_rejected(name, status)
        data = _dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [_JSON_HEADERS, (b"content-length", b"%d" % len(data))],
            }
        )
        await send({"type": "http.response.body", "body": data})

    async def _body(self, receive: Receive) -> bytes | None:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body: bytes = message.get("body", b"")
        if len(body) > self.limit:
            raise _too_large(self.limit)
        if not message.get("more_body", False):
            return body
        chunks, size = [body], len(body)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise _too_large(self.limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class ServingApp(FastAPI):
    """FastAPI with the two prediction routes answered by a raw ASGI handler in front."""

    predict_handler: _Predict | None = None
    token_guard: TokenGuard | None = None  # the server's tokens, when auth is configured

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard = self.token_guard
        if guard is not None and scope["type"] == "http" and not await guard.allow(scope, send):
            return
        handler = self.predict_handler
        if handler is not None and scope["type"] == "http":
            matched, name = handler.match(scope)
            if matched:
                await handler(scope, receive, send, name)
                return
        await super().__call__(scope, receive, send)


def create_app(
    target: str | Graph | Sequence[str | Graph],
    limits: Limits | None = None,
    log: bool = True,
    watch: bool = True,
    poll_seconds: float = 1.5,
    drain_seconds: float = 30.0,
    freeze_heap: bool = False,
    auth: bool | None = None,
) -> FastAPI:
    """The FastAPI app serving ``target`` (a model URI, graphs, or ``file.py:graph``).

    ``freeze_heap``: once the models are loaded (and after each hot swap), move every
    object alive out of the cyclic garbage collector's reach (:func:`freeze_long_lived`). For a
    process that only serves (``mloop serve`` sets it), not for an app run inside another
    program, whose heap it would freeze too.

    ``auth``: whether requests need the server's tokens (``read``; ``feedback`` for
    ``POST /v1/feedback``); by default when accounts exist (see :mod:`mloop.server.guard`).

    >>> app = create_app("models:/delays@champion")
    >>> uvicorn.run(app, port=8080)
    """
    from mloop.serving import load_target

    graphs = load_target(target, poll_seconds=poll_seconds)
    service = Service(graphs, limits=limits, log=log, watch=watch)
    max_body = service.limits.max_body_bytes

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await service.start()
        if freeze_heap:
            freeze_long_lived(collect=True)
            for graph in service.graphs.values():
                for runtime in graph.runtimes():  # a swapped-in model is long-lived too
                    runtime.listeners.append(lambda *_: freeze_long_lived(collect=False))
        try:
            yield
        finally:
            await service.stop(drain_seconds)

    names = ", ".join(service.graphs)
    app = ServingApp(
        title="mloop model server",
        version="1",
        description=f"Serving: {names}. Predictions are logged for monitoring.",
        lifespan=lifespan,
        docs_url=None,  # /docs is served offline (add_offline_docs), redoc is not served
        redoc_url=None,
    )
    app.state.service = service
    app.predict_handler = _Predict(service)
    app.token_guard = token_guard(auth)
    add_offline_docs(app, "mloop model server")
    app.openapi = functools.partial(_openapi, app, service)  # type: ignore[method-assign]

    # Reached only when the app is called without ServingApp.__call__ (e.g. its router
    # mounted elsewhere); the handler in front answers these routes otherwise.
    async def predict_route(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            body = await _read_json_body(request, max_body)
        except Exception as exc:
            return _rejected(service, name, exc)
        try:
            answer = await service.predict(name, body, request.headers.get("x-request-id"))
        except Exception as exc:
            return _error(exc)
        return _json(answer)

    async def invocations_route(request: Request) -> Response:
        try:
            body = await _read_json_body(request, max_body)
        except Exception as exc:
            return _rejected(service, None, exc)
        try:
            answer = await service.predict(None, body, request.headers.get("x-request-id"))
        except Exception as exc:
            return _error(exc)
        return _json({"predictions": answer["predictions"]})

    @app.post("/v1/models/{name}/predict", openapi_extra=_PREDICT_BODY, tags=["predict"])
    async def predict(name: str, request: Request) -> Response:
        """Predict with a served model or graph; answers predictions, version, request ids."""
        return await predict_route(request)

    @app.post("/invocations", openapi_extra=_PREDICT_BODY, tags=["predict"])
    async def invocations(request: Request) -> Response:
        """MLflow-compatible scoring of the first served model: ``{"predictions": [...]}``."""
        return await invocations_route(request)

    @app.post("/v1/feedback", openapi_extra=_FEEDBACK_BODY, tags=["feedback"])
    async def feedback(request: Request) -> Response:
        """Record the ground truth of earlier requests by request id (any time later)."""
        try:
            body = await _read_json_body(request, max_body)
            answer = await service.feedback(body)
        except Exception as exc:
            return _error(exc)
        return _json(answer)

    @app.get("/v1/feedback/status", tags=["feedback"])
    async def feedback_status() -> Response:
        """Stored labels of each served model: matched to a logged prediction, pending (the
        log may not be flushed yet) or unmatched (a request id no server logged)."""
        return _json(await asyncio.to_thread(service.feedback_status, 0.0))

    @app.get("/v1/models", tags=["status"])
    async def models() -> Response:
        """The served graphs and the version of each of their models."""
        return _json(service.status()["models"])

    @app.get("/healthz", tags=["status"])
    async def healthz() -> Response:
        """Liveness: the process answers."""
        return _json({"status": "ok"})

    @app.get("/readyz", tags=["status"])
    async def readyz() -> Response:
        """Readiness: models loaded and not shutting down (503 otherwise)."""
        status = service.status()
        return _json(status, 200 if status["ready"] else 503)

    @app.get("/metrics", tags=["status"])
    async def metrics() -> Response:
        """Prometheus metrics: requests, latency, errors by status, batch sizes, versions."""
        from prometheus_client import CONTENT_TYPE_LATEST

        try:
            await asyncio.to_thread(service.feedback_status)  # at most every 30 s
        except Exception as exc:  # the other metrics still answer
            _log.error("counting feedback labels failed: %s", exc)
        return Response(service.metrics.render(service.writer), media_type=CONTENT_TYPE_LATEST)

    return app


def _examples(service: Service) -> dict[str, dict[str, Any]]:
    """A request body per served graph, from its signature (and its model's input example)."""
    examples = {}
    for name, graph in service.graphs.items():
        signature, _ = graph.request_schema()
        fields = [(c.name, c.type) for c in signature.inputs] if signature is not None else []
        runtimes = graph.runtimes()
        input_example = (
            runtimes[0].model.metadata.get("input_example")
            if runtimes and runtimes[0].loaded
            else None
        )
        body = request_example(fields, input_example)
        if body is not None:
            examples[name] = body
    return examples


def _openapi(app: FastAPI, service: Service) -> dict[str, Any]:
    """FastAPI's OpenAPI schema with example requests that match the served signatures
    (kept once the models are loaded; before that, the generic example)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = copy.deepcopy(FastAPI.openapi(app))  # its bodies share _PREDICT_BODY's dicts
    app.openapi_schema = schema
    examples = _examples(service)
    if examples:
        paths = schema["paths"]
        predict = paths["/v1/models/{name}/predict"]["post"]["requestBody"]["content"]
        predict["application/json"].pop("example", None)
        predict["application/json"]["examples"] = {
            name: {"summary": f"a request to {name}", "value": body}
            for name, body in examples.items()
        }
        if service.default in examples:
            invocations = paths["/invocations"]["post"]["requestBody"]["content"]
            invocations["application/json"]["example"] = examples[service.default]
    if not service.loaded:
        app.openapi_schema = None  # build again once the signatures are known
    return schema


def freeze_long_lived(collect: bool) -> None:
    """Move every object alive now out of the cyclic garbage collector's reach.

    A server's heap is mostly modules and models that live until it exits. Python's full
    collections walk all of it: under load they paused a server with a scikit-learn
    pipeline for ~120 ms every few seconds (its p99 at 64 connections: 115 ms; frozen:
    16 ms). Frozen objects are still freed by reference counting; only reference cycles
    among them stay until the process exits (the ``collect`` first frees the ones left by
    loading; a swap does not collect, to keep that pause out of the traffic).
    """
    import gc

    if collect:
        gc.collect()
    gc.freeze()


def app_from_env() -> FastAPI:
    """The app ``mloop serve`` starts in each uvicorn worker (target and options from env)."""
    target = os.environ.get(TARGET_ENV, "")
    options: dict[str, Any] = json.loads(os.environ.get(OPTIONS_ENV, "{}"))
    limits = Limits(**options.pop("limits", {}))
    targets = target.split("\n") if "\n" in target else target
    return create_app(targets, limits=limits, freeze_heap=True, **options)
