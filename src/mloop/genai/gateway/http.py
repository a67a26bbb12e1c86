"""The gateway over HTTP: OpenAI's API, mounted by ``mloop server`` or served alone.

    router = create_gateway_router(load_config("routes.yaml"), authenticate)
    app.include_router(router)          # POST /v1/chat/completions, /v1/embeddings, GET /v1/models

Bodies are read raw and decoded with orjson (no per-request pydantic model). Every error
is an OpenAI-style body (``{"error": {"message", "type", "param", "code"}}``): 4xx for the
client's mistakes (400 malformed, 401 no or bad key, 404 unknown model, 429 a limit),
502/503 when the upstreams failed. Streams: see :mod:`.streaming`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from orjson import dumps

from mloop.core.errors import MloopError, NotFound
from mloop.core.log import get_logger
from mloop.core.principal import Principal
from mloop.genai.gateway import openai_api as wire
from mloop.genai.gateway.assemble import open_gateway
from mloop.genai.gateway.config import GatewayConfig
from mloop.genai.gateway.engine import Gateway
from mloop.genai.gateway.errors import AuthenticationFailed, RateLimited, error_body
from mloop.genai.providers.base import ChatChunk, ProviderError
from mloop.store.db import MetadataStore

__all__ = ["Authenticate", "GatewayAPI", "create_gateway_router", "key_id"]

Authenticate = Callable[[str], Principal]
_log = get_logger("mloop.genai.gateway")
_JSON = "application/json"


def _error(exc: BaseException) -> Response:
    """The OpenAI-style response for any error of a call."""
    headers: dict[str, str] = {}
    param = getattr(exc, "param", None)
    code: str | None = None
    if isinstance(exc, ProviderError):
        # the upstream refused the request itself (400/413/422): the client's to fix
        status = (
            exc.status if exc.status in (400, 413, 422) else (504 if exc.status == 504 else 502)
        )
    elif isinstance(exc, MloopError):
        status = exc.http_status
    else:
        _log.exception("gateway: unexpected error", exc_info=exc)
        status = 500
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(max(1, round(exc.retry_after)))
        code = exc.limit
    if getattr(exc, "guardrail", None) is not None:  # GuardrailBlocked names it
        code = f"guardrail_{exc.guardrail}"  # type: ignore[attr-defined]
    if isinstance(exc, NotFound):
        code = "model_not_found"
        param = "model"
    message = (
        str(exc)
        if status < 500 or isinstance(exc, MloopError)
        else "Internal error; see the server log."
    )
    return Response(
        dumps(error_body(status, message, param=param, code=code)), status, headers, _JSON
    )


def key_id(token: str) -> str:
    """A short id of an API key that can be logged and counted (not the key)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def create_gateway_router(
    config: GatewayConfig | Gateway,
    authenticate: Authenticate | None = None,
    *,
    store: MetadataStore | None = None,
    hooks: Sequence[object] = (),
    prefix: str = "",
) -> APIRouter:
    """The OpenAI-compatible routes over ``config`` (or a ready :class:`Gateway`).

    ``authenticate(token) -> Principal`` checks the bearer token of each request (and raises
    an mloop error to refuse it); None accepts every request as ``anonymous`` (for a gateway
    on the loopback interface only). From a config, the gateway gets metrics and a usage
    ledger (in ``store`` if given) and ``hooks`` (guardrails, tracing). The router's
    ``gateway`` attribute is the :class:`Gateway`: ``await router.gateway.aclose()`` at
    shutdown flushes the ledger and closes connections.
    """
    gateway = (
        config if isinstance(config, Gateway) else open_gateway(config, store=store, hooks=hooks)[0]
    )
    api = GatewayAPI(gateway, authenticate)
    router = APIRouter(prefix=prefix, tags=["gateway"])
    router.gateway = gateway  # type: ignore[attr-defined]  # the app's lifespan closes it
    router.api = api  # type: ignore[attr-defined]  # the standalone app's fast path uses it

    @router.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await api.chat(await request.body(), request.headers.get("authorization", ""))

    @router.post("/v1/embeddings")
    async def embeddings(request: Request) -> Response:
        return await api.embeddings(await request.body(), request.headers.get("authorization", ""))

    @router.get("/v1/models")
    async def models(request: Request) -> Response:
        return api.models(request.headers.get("authorization", ""))

    return router


class GatewayAPI:
    """The three endpoints as plain functions of (body, Authorization header) -> Response."""

    def __init__(self, gateway: Gateway, authenticate: Authenticate | None) -> None:
        self.gateway = gateway
        self.authenticate = authenticate

    def who(self, authorization: str) -> tuple[Principal | None, str]:
        if self.authenticate is None:
            return None, ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed(
                "This gateway needs an API key: send 'Authorization: Bearer <key>' "
                "(the openai client's api_key)."
            )
        token = token.strip()
        return self.authenticate(token), key_id(token)

    async def chat(self, raw: bytes, authorization: str) -> Response:
        gateway = self.gateway
        try:
            principal, kid = self.who(authorization)
            body = wire.parse_json(raw)
            route, messages, params, stream = wire.check_chat(body)
            call = gateway.context(
                route,
                messages=messages,
                params=params,
                stream=stream,
                principal=principal,
                key_id=kid,
            )
            call_id = wire.new_id()
            if not stream:
                response = await gateway.complete(call)
                return Response(wire.chat_body(route, response, call_id), media_type=_JSON)
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            chunks = gateway.stream_call(call)
            first = await anext(chunks)  # failures before the first chunk are plain errors
        except Exception as exc:
            return _error(exc)
        return StreamingResponse(
            _events(route, first, chunks, call_id, include_usage),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    async def embeddings(self, raw: bytes, authorization: str) -> Response:
        try:
            principal, kid = self.who(authorization)
            route, inputs, params = wire.check_embeddings(wire.parse_json(raw))
            call = self.gateway.context(
                route,
                operation="embeddings",
                inputs=inputs,
                params=params,
                principal=principal,
                key_id=kid,
            )
            result = await self.gateway.embed_call(call)
            return Response(
                wire.embeddings_body(route, result, params["encoding_format"]), media_type=_JSON
            )
        except Exception as exc:
            return _error(exc)

    def models(self, authorization: str) -> Response:
        try:
            self.who(authorization)
        except Exception as exc:
            return _error(exc)
        return Response(wire.models_body(self.gateway.models()), media_type=_JSON)


async def _events(
    route: str,
    first: ChatChunk,
    chunks: AsyncIterator[ChatChunk],
    call_id: str,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    created = int(time.time())
    usage = first.usage
    try:
        yield wire.chunk_event(route, first, call_id, created)
        async for chunk in chunks:
            if chunk.usage is not None:
                usage = chunk.usage
            if chunk.delta or chunk.finish_reason or chunk.role:
                yield wire.chunk_event(route, chunk, call_id, created)
    except Exception as exc:  # after a partial answer: one error event, then the end
        status = getattr(exc, "status", getattr(exc, "http_status", 500))
        yield b"data: " + dumps(error_body(status, str(exc), code="stream_interrupted")) + b"\n\n"
        return
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]  # the client may have gone
    if include_usage and usage is not None:
        yield wire.usage_event(route, usage, call_id, created)
    yield b"data: [DONE]\n\n"
