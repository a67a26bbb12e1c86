"""``/api/2.0/mlflow-artifacts/artifacts``: MLflow's proxied artifact upload, download and list.

Paths are artifact-store keys, and only two kinds are reachable: a run's artifacts
(``runs/<run id>/artifacts/...``) and a logged model's files
(``logged_models/<model id>/artifacts/...``). ``..``, absolute paths and anything else
(datasets, other folders of the store) are refused. Uploads stream to a temporary file
and are stored with their sha256; downloads stream in 1 MiB chunks and are checked
against the recorded sha256 as they go (a corrupt file breaks the transfer).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mloop.core.errors import IntegrityError, InvalidInput
from mloop.server.mlflow_api import listing, logged_models
from mloop.server.mlflow_api.protocol import ERRORS, MlflowError, MlflowRoute
from mloop.store import get_artifacts, get_store
from mloop.store.artifacts import check_key
from mloop.tracking import runs

_REACHABLE = re.compile(
    r"^(?:runs/(?P<run>[0-9a-f]{32})/artifacts|logged_models/(?P<model>m-[0-9a-f]{32})/artifacts)"
    r"(?:/|$)"
)
_CHUNK = 1 << 20


def reachable(path: str) -> str:
    """The artifact-store key of ``path`` when the MLflow API may reach it, else an error.

    Raises:
        InvalidInput: ``..``, an absolute path, or a key outside run and model artifacts.
        NotFound: the run or logged model the path belongs to does not exist.
    """
    if "\x00" in path:
        raise InvalidInput(f"artifact path {path!r} contains a NUL byte; remove it.")
    key = check_key(path)
    match = _REACHABLE.match(key)
    if match is None:
        raise MlflowError(
            "PERMISSION_DENIED",
            f"artifact path {path!r} is outside the artifacts of runs and logged models; "
            "use runs/<run id>/artifacts/... or logged_models/<model id>/artifacts/... "
            "(the artifact_uri of the run or model).",
        )
    if match["run"]:
        if not runs.exists(get_store(), match["run"]):
            raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"run {match['run']!r} does not exist.")
    else:
        logged_models.load(match["model"])
    return key


def _verified(key: str, expected: str) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in get_artifacts().iter_chunks(key):
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != expected:
        raise IntegrityError(f"artifact {key!r} is corrupt: its sha256 differs from the record.")


def _store_upload(key: str, temporary: str) -> None:
    try:
        get_artifacts().put_file(key, temporary)
    except (IsADirectoryError, NotADirectoryError, FileExistsError):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"artifact path {key!r} clashes with what is stored: it names a folder, or a "
            "folder on its way is a file. Upload under another name.",
        ) from None


def create_router(read: Any, write: Any) -> APIRouter:
    router = APIRouter(route_class=MlflowRoute, responses=ERRORS, tags=["MLflow: artifacts"])
    prefix = "/api/2.0/mlflow-artifacts/artifacts"

    @router.get(prefix, dependencies=[Depends(read)])
    def list_artifacts(path: str | None = Query(None)) -> dict[str, Any]:
        if not path or not path.strip("/"):
            raise MlflowError(
                "PERMISSION_DENIED",
                "listing the artifact root is not allowed; give path=runs/<run id>/artifacts "
                "or path=logged_models/<model id>/artifacts.",
            )
        key = reachable(path)
        return {"files": listing.children(get_artifacts(), key)}

    @router.get(prefix + "/{path:path}", dependencies=[Depends(read)])
    def download_artifact(path: str = Path()) -> StreamingResponse:
        key = reachable(path)
        info = get_artifacts().info(key)
        return StreamingResponse(
            _verified(key, info.sha256),
            media_type="application/octet-stream",
            headers={
                "Content-Length": str(info.size),
                "Content-Disposition": f'attachment; filename="{os.path.basename(key)}"',
            },
        )

    @router.put(prefix + "/{path:path}", dependencies=[Depends(write)])
    async def upload_artifact(request: Request, path: str = Path()) -> dict[str, Any]:
        key = await run_in_threadpool(reachable, path)
        handle, temporary = tempfile.mkstemp(prefix="mloop-upload-")
        try:
            with os.fdopen(handle, "wb") as spool:
                async for chunk in request.stream():
                    spool.write(chunk)
            await run_in_threadpool(_store_upload, key, temporary)
        finally:
            os.unlink(temporary)
        return {}

    @router.delete(prefix + "/{path:path}", dependencies=[Depends(write)])
    def delete_artifact(path: str = Path()) -> dict[str, Any]:
        key = reachable(path)
        artifacts = get_artifacts()
        for found in artifacts.list(key):
            artifacts.delete(found)
        return {}

    return router
