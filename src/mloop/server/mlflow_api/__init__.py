"""MLflow's REST API on mloop's stores, for the stock ``mlflow`` client (3.x).

``create_router(read, write)`` answers ``/api/2.0/mlflow/...`` (experiments, runs,
search, metric history, registered models, versions, aliases, logged models) and
``/api/2.0/mlflow-artifacts/artifacts/...``. ``read`` and ``write`` are the server's
FastAPI dependencies that authenticate a request and set the acting principal; reading
routes depend on ``read``, mutating ones on ``write``. What the client stores is ordinary
mloop data. Supported calls and limits: docs/mlflow-compat.md; decision 0184.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mloop.server.mlflow_api import (
    artifacts,
    experiments,
    logged_models,
    registry,
    runs,
    search,
)
from mloop.server.mlflow_api.protocol import error_response

__all__ = ["create_router"]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_router(read: Any, write: Any) -> APIRouter:
    """The MLflow-compatible routes, guarded by the ``read`` and ``write`` dependencies."""
    router = APIRouter()
    for part in (experiments, runs, search, logged_models, registry, artifacts):
        router.include_router(part.create_router(read, write))

    async def unknown(request: Request) -> JSONResponse:
        return error_response(
            "ENDPOINT_NOT_FOUND",
            f"{request.method} {request.url.path} is not an MLflow call this server answers; "
            "docs/mlflow-compat.md lists the supported ones.",
        )

    for root in ("/api/2.0/mlflow/{rest:path}", "/api/2.0/mlflow-artifacts/{rest:path}"):
        router.add_api_route(
            root,
            unknown,
            methods=_METHODS,
            dependencies=[Depends(read)],
            include_in_schema=False,
        )
    return router
