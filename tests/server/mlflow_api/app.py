"""A small FastAPI app serving the MLflow-compatible router, as ``mloop server`` mounts it.

The ``read`` and ``write`` dependencies stand in for the server's authentication: they
act as a fixed principal (``ada``), and a request with ``X-Test-Role: viewer`` is refused
by ``write``, so the tests can see which routes mutate. With ``token``, every request must
carry it as a bearer token (``MLFLOW_TRACKING_TOKEN`` on the MLflow client's side).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI, HTTPException, Request

from mloop.core.principal import Principal, acting_as
from mloop.server.mlflow_api import create_router

PRINCIPAL = Principal("ada", workspace="default", role="editor")


def make_app(token: str | None = None) -> FastAPI:
    def authenticate(request: Request) -> None:
        if token is not None and request.headers.get("Authorization") != f"Bearer {token}":
            raise HTTPException(status_code=401, detail="a valid bearer token is required")

    async def read(request: Request) -> AsyncIterator[Principal]:
        authenticate(request)
        with acting_as(PRINCIPAL) as principal:
            yield principal

    async def write(request: Request) -> AsyncIterator[Principal]:
        authenticate(request)
        if request.headers.get("X-Test-Role") == "viewer":
            raise HTTPException(status_code=403, detail="viewers cannot write")
        with acting_as(PRINCIPAL) as principal:
            yield principal

    app = FastAPI()
    app.include_router(create_router(read, write))
    return app


@contextlib.contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
