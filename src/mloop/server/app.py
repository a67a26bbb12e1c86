"""The mloop server: ``/api/v1`` over the configured stores, with authentication and roles.

    mloop server --host 127.0.0.1 --port 5000

:func:`create_app` builds the FastAPI app (``uvicorn --factory mloop.server.app:create_app``).
Every mloop error maps to its HTTP status with a JSON body ``{"error_code", "message"}``;
request validation errors answer 422 naming the field. See docs/server.md.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from mloop.core.errors import MloopError
from mloop.core.log import get_logger
from mloop.server import mlflow_api
from mloop.server.api import artifacts, audit, experiments, loop, registry, runs, session
from mloop.server.auth import AuthState, read, write
from mloop.server.auth import accounts as auth_accounts
from mloop.server.auth.errors import TooManyRequests
from mloop.server.docs import add_offline_docs
from mloop.server.genai import mount_genai
from mloop.server.metrics import MetricsMiddleware, ServerMetrics
from mloop.store import get_store

_log = get_logger("mloop.server")
VERSION = "1"
INSECURE_ENV = "MLOOP_SERVER_INSECURE"  # set by `mloop server --insecure`
_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_ALREADY_EXISTS",
    413: "REQUEST_TOO_LARGE",
    422: "INVALID_PARAMETER_VALUE",
    429: "REQUEST_LIMIT_EXCEEDED",
    503: "TEMPORARILY_UNAVAILABLE",
}


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    body = {"error_code": _CODES.get(status, "INTERNAL_ERROR"), "message": message, **extra}
    return JSONResponse(body, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        field = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{field}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MloopError)
    async def mloop_error(request: Request, exc: MloopError) -> JSONResponse:
        status = exc.http_status
        if status >= 500:
            _log.error("%s %s failed: %s", request.method, request.url.path, exc)
        response = error_response(status, str(exc))
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_message(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("%s %s failed", request.method, request.url.path)
        return error_response(500, "internal error; see the server log.")


def create_app(auth: bool | None = None, gateway: dict[str, Any] | None = None) -> FastAPI:
    """The server app over the configured stores.

    ``auth``: whether requests need a token; by default, when at least one user or service
    account exists (``mloop users create``). ``gateway``: the LLM gateway's configuration
    (by default the ``[gateway]`` section of ``mloop.toml``; the gateway is mounted when
    there is one). ``POST /v1/traces`` (OTLP) is always mounted.
    """
    store = get_store()
    if auth is None:
        auth = os.environ.get(INSECURE_ENV) != "1" and auth_accounts.any_account(store)
    required = auth
    app = FastAPI(
        title="mloop server",
        version=VERSION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        description="mloop's REST API: tracking, registry, artifacts, audit and lineage.",
    )
    app.state.mloop_auth = AuthState(store=store, required=required)
    app.state.mloop_store = store
    metrics = ServerMetrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    _add_error_handlers(app)
    add_offline_docs(app, "mloop server")

    @app.get("/healthz", tags=["status"])
    async def healthz() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["status"])
    async def readyz() -> Response:
        """The metadata store answers a query."""

        def ping() -> None:
            with store.read() as conn:
                conn.execute(text("select 1"))

        try:
            await run_in_threadpool(ping)
        except Exception as exc:
            _log.warning("readiness check failed: %s", type(exc).__name__)
            return error_response(503, "the metadata store does not answer.")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["status"])
    async def prometheus() -> Response:
        """Prometheus metrics: requests, latency and errors per route template."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    for module in (session, experiments, runs, artifacts, registry, audit, loop):
        app.include_router(module.router)
    _mount_mlflow(app)
    mount_genai(app, gateway)
    return app


def _mount_mlflow(app: FastAPI) -> None:
    """MLflow's REST API (``/api/2.0/mlflow``), behind the same tokens and roles."""
    app.include_router(mlflow_api.create_router(read=read, write=write))
