"""The model server: FastAPI routes over :class:`mloop.serving.Service`.

    mloop serve models:/delays@champion --port 8080
    curl -X POST localhost:8080/v1/models/delays/predict -H 'content-type: application/json' \\
         -d '{"records": [{"distance": 719, "hour": 6, "carrier": "UA"}]}'

Routes: ``POST /v1/models/{name}/predict``, MLflow's ``POST /invocations``,
``POST /v1/feedback``, ``GET /v1/models``, ``/healthz``, ``/readyz``, ``/metrics`` and the
OpenAPI docs at ``/docs``. Bodies are read raw and decoded with orjson (no per-request
pydantic model), limited in size, and every mloop error maps to its HTTP status.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from mloop.serving import Limits, Service, error_body
from mloop.serving.errors import PayloadTooLarge, UnsupportedMediaType

if TYPE_CHECKING:
    from mloop.serving import Graph

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
                "example": {"records": [{"distance": 719.0, "hour": 6, "carrier": "UA"}]},
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


def _json(body: Any, status: int = 200) -> Response:
    import orjson

    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type="application/json",
    )


def _error(exc: Exception) -> Response:
    status, body = error_body(exc)
    return _json(body, status)


async def _read_json_body(request: Request, limit: int) -> bytes:
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(
            f"content type {content_type or '(none)'!r} is not supported; send the body as JSON "
            "with the header 'Content-Type: application/json'."
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the request body has {int(declared):,} bytes, over the limit of {limit:,}; "
            "send fewer rows per request."
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"the request body is over the limit of {limit:,} bytes; send fewer rows per "
                "request."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    target: str | Graph | Sequence[str | Graph],
    limits: Limits | None = None,
    log: bool = True,
    watch: bool = True,
    poll_seconds: float = 1.5,
    drain_seconds: float = 30.0,
) -> FastAPI:
    """The FastAPI app serving ``target`` (a model URI, graphs, or ``file.py:graph``).

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
        try:
            yield
        finally:
            await service.stop(drain_seconds)

    names = ", ".join(service.graphs)
    app = FastAPI(
        title="mloop model server",
        version="1",
        description=f"Serving: {names}. Predictions are logged for monitoring.",
        lifespan=lifespan,
    )
    app.state.service = service

    async def predict_route(request: Request) -> Response:
        try:
            body = await _read_json_body(request, max_body)
            answer = await service.predict(
                request.path_params["name"], body, request.headers.get("x-request-id")
            )
        except Exception as exc:
            return _error(exc)
        return _json(answer)

    async def invocations_route(request: Request) -> Response:
        try:
            body = await _read_json_body(request, max_body)
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

    # The hot routes answer through plain Starlette routes placed first (no dependency
    # solving per request); the FastAPI routes above stay for the OpenAPI docs.
    app.router.routes[:0] = [
        Route("/v1/models/{name}/predict", predict_route, methods=["POST"]),
        Route("/invocations", invocations_route, methods=["POST"]),
    ]

    @app.post("/v1/feedback", openapi_extra=_FEEDBACK_BODY, tags=["feedback"])
    async def feedback(request: Request) -> Response:
        """Record the ground truth of earlier requests by request id (any time later)."""
        try:
            body = await _read_json_body(request, max_body)
            answer = await service.feedback(body)
        except Exception as exc:
            return _error(exc)
        return _json(answer)

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

        return Response(service.metrics.render(service.writer), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_env() -> FastAPI:
    """The app ``mloop serve`` starts in each uvicorn worker (target and options from env)."""
    target = os.environ.get(TARGET_ENV, "")
    options: dict[str, Any] = json.loads(os.environ.get(OPTIONS_ENV, "{}"))
    limits = Limits(**options.pop("limits", {}))
    return create_app(target.split("\n") if "\n" in target else target, limits=limits, **options)
