"""The online feature server: ``POST /features/online`` for other services.

    mloop features serve --port 8300
    curl -X POST localhost:8300/features/online \\
         -d '{"features": ["weather:temp"], "entities": {"origin": ["JFK", "LGA"]}}'

The response holds one list per entity key and feature, a status per value (``PRESENT``,
``NULL``, ``NOT_FOUND``, ``EXPIRED``) and the event time of each view's row. mloop errors
map to their HTTP status (unknown feature: 404, bad request: 422).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mloop.core.errors import MloopError
from mloop.server.docs import add_offline_docs
from mloop.server.guard import GuardMiddleware, token_guard

if TYPE_CHECKING:
    from mloop.features import FeatureStore


class OnlineRequest(BaseModel):
    """Features (or a service) for a batch of entities."""

    features: list[str] | None = Field(None, description="Feature references 'view:feature'.")
    service: str | None = Field(None, description="A feature service name, instead of features.")
    entities: dict[str, list[Any]] | list[dict[str, Any]] = Field(
        ..., description="Entity keys (and request fields): a dict of lists or a list of rows."
    )
    full_names: bool = Field(False, description="Name output columns 'view:feature'.")


class OnlineAnswer(BaseModel):
    features: dict[str, list[Any]]
    status: dict[str, list[str]]
    event_timestamps: dict[str, list[int | None]] = Field(
        description="Per view, microseconds since the epoch (UTC)."
    )


def create_app(store: FeatureStore | None = None, auth: bool | None = None) -> FastAPI:
    """The FastAPI application serving ``store`` (default: the configured feature store).

    ``auth``: whether requests need the server's tokens (``read``; ``write`` for
    ``/features/refresh``); by default when accounts exist (:mod:`mloop.server.guard`).
    """
    from mloop import features as fs

    feature_store = store or fs.FeatureStore()
    app = FastAPI(title="mloop online features", version="1", docs_url=None, redoc_url=None)
    add_offline_docs(app, "mloop online features")  # Swagger UI without a CDN
    guard = token_guard(auth)
    if guard is not None:
        app.add_middleware(GuardMiddleware, guard=guard)

    @app.exception_handler(MloopError)
    def _mloop_error(_: Request, exc: MloopError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "error": type(exc).__name__}, status_code=exc.http_status
        )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> dict[str, str]:
        feature_store.online.read([("__ready__/0", ["x"])])
        return {"status": "ready"}

    @app.post("/features/online", response_model=OnlineAnswer)
    def online(body: OnlineRequest) -> OnlineAnswer:
        response = feature_store.get_online_features(
            body.entities, body.features, service=body.service, full_names=body.full_names
        )
        return OnlineAnswer(
            features=response.to_dict(),
            status=response.statuses,
            event_timestamps=response.event_times,
        )

    @app.post("/features/refresh")
    def refresh() -> dict[str, str]:
        """Re-read definitions applied since the server started."""
        feature_store.refresh()
        return {"status": "refreshed"}

    return app
