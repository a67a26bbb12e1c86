"""A small FastAPI app serving the MLflow-compatible router, as ``mloop server`` mounts it.

The ``read`` and ``write`` dependencies stand in for the server's authentication: they
act as a fixed principal (``ada``), and a request with ``X-Test-Role: viewer`` is refused
by ``write``, so the tests can see which routes mutate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, HTTPException, Request

from mloop.core.principal import Principal, acting_as
from mloop.server.mlflow_api import create_router

PRINCIPAL = Principal("ada", workspace="default", role="editor")


async def read(request: Request) -> AsyncIterator[Principal]:
    with acting_as(PRINCIPAL) as principal:
        yield principal


async def write(request: Request) -> AsyncIterator[Principal]:
    if request.headers.get("X-Test-Role") == "viewer":
        raise HTTPException(status_code=403, detail="viewers cannot write")
    with acting_as(PRINCIPAL) as principal:
        yield principal


def make_app() -> FastAPI:
    app = FastAPI()
    app.include_router(create_router(read, write))
    return app
