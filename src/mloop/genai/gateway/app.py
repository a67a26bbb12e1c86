"""The standalone gateway app (``mloop gateway``): the router, health, metrics, a fast path.

The two POST routes are answered by a plain ASGI handler in front of FastAPI (no routing,
middleware or dependency solving per request): it reads the body and hands it to the same
:class:`~mloop.genai.gateway.http.GatewayAPI` the router uses, so both behave alike.
FastAPI keeps ``GET /v1/models``, ``/healthz``, ``/metrics`` and the lifespan.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from orjson import dumps

from mloop.genai.gateway.config import GatewayConfig
from mloop.genai.gateway.engine import Gateway
from mloop.genai.gateway.errors import error_body
from mloop.genai.gateway.http import Authenticate, GatewayAPI, create_gateway_router
from mloop.store.db import MetadataStore

__all__ = ["create_gateway_app"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BODY = 8 * 1024 * 1024


class FastPath:
    """POST /v1/chat/completions and /v1/embeddings straight to the API; the rest to FastAPI."""

    def __init__(self, app: FastAPI, api: GatewayAPI) -> None:
        self.app = app
        self.api = api
        self.routes = {
            "/v1/chat/completions": api.chat,
            "/v1/embeddings": api.embeddings,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if handler is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                text = f"The request body is over {MAX_BODY // 1024 // 1024} MiB."
                response = Response(
                    dumps(error_body(413, text)), 413, media_type="application/json"
                )
                await response(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        authorization = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        response = await handler(b"".join(chunks), authorization)
        await response(scope, receive, send)


def create_gateway_app(
    config: GatewayConfig | Gateway,
    authenticate: Authenticate | None = None,
    *,
    store: MetadataStore | None = None,
    hooks: Sequence[object] = (),
) -> FastPath:
    """A standalone app: the gateway's routes plus ``/healthz`` and ``/metrics``."""
    router = create_gateway_router(config, authenticate, store=store, hooks=hooks)
    gateway: Gateway = router.gateway  # type: ignore[attr-defined]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # what start-up made lives as long as the process: out of the collector's sight,
        # a full collection no longer walks it (tens of ms on the hot path otherwise)
        gc.collect()
        gc.freeze()
        yield
        await gateway.aclose()

    app = FastAPI(title="mloop gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return FastPath(app, router.api)  # type: ignore[attr-defined]
