"""mloop's MLflow API on uvicorn, for the benchmark (one worker, embedded SQLite stores).

    python -m benchmarks.server.mloop_app --port 5001 --home /tmp/bench/.mloop

``mloop server`` mounts the same router behind its authentication; here the read and
write dependencies act as one fixed principal, so the figures are of the API itself.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI


async def _acting() -> AsyncIterator[None]:
    from mloop.core.principal import Principal, acting_as

    with acting_as(Principal("bench")):
        yield


def make_app() -> FastAPI:
    from mloop.server.mlflow_api import create_router

    app = FastAPI()
    app.include_router(create_router(_acting, _acting))
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--home", required=True)
    args = parser.parse_args()
    os.environ["MLOOP_HOME"] = args.home
    import uvicorn

    uvicorn.run(make_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
