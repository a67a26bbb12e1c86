"""``/api/v1/runs/{run_id}/artifacts``: streamed upload and download, listing, large files
in parts. Paths are relative to the run's artifact root; a path that would escape it
(``..``, absolute, a URL) is refused with 422.

Large files: ``PUT /api/v1/uploads/{upload_id}/parts/{n}`` each part (streamed), then
``POST /api/v1/runs/{run_id}/artifacts/{path}?upload_id=...&parts=N`` joins them in order.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mloop.core.errors import InvalidInput, NotFound
from mloop.core.principal import Principal
from mloop.server.api import scoping
from mloop.server.auth import read, write
from mloop.store import get_artifacts
from mloop.store.artifacts import check_key
from mloop.tracking import runs

router = APIRouter(prefix="/api/v1", tags=["artifacts"])
Reader = Annotated[Principal, Depends(read)]
Writer = Annotated[Principal, Depends(write)]
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_PARTS = 10_000
_UPLOADS = Path(tempfile.gettempdir()) / "mloop-server-uploads"


def _key(run_id: str, path: str) -> str:
    return f"{runs.artifact_prefix(run_id)}/{check_key(path)}"


def _part_file(principal: Principal, upload_id: str, part: int) -> Path:
    if not _UPLOAD_ID.match(upload_id):
        raise InvalidInput(f"upload_id {upload_id!r} must be 8-64 letters, digits, '_' or '-'.")
    if not 1 <= part <= MAX_PARTS:
        raise InvalidInput(f"part {part} must be between 1 and {MAX_PARTS}.")
    # uploads are kept per user, so one user cannot complete another's parts
    return _UPLOADS / principal.name / upload_id / f"{part:05d}"


async def _receive(request: Request, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(target, "wb") as out:
        async for chunk in request.stream():
            out.write(chunk)
            size += len(chunk)
    return size


@router.put("/runs/{run_id}/artifacts/{path:path}", status_code=201)
async def upload(run_id: str, path: str, request: Request, principal: Writer) -> dict[str, Any]:
    """Store the request body (streamed, any size) as the artifact ``path`` of the run."""
    key = _key(run_id, path)
    await run_in_threadpool(scoping.check_runs, principal, [run_id])
    with tempfile.TemporaryDirectory(prefix="mloop-upload-") as folder:
        local = Path(folder) / "body"
        size = await _receive(request, local)
        info = await run_in_threadpool(get_artifacts().put_file, key, local)
    return {"path": check_key(path), "size": size, "sha256": info.sha256}


@router.put("/uploads/{upload_id}/parts/{part}", status_code=201)
async def upload_part(
    upload_id: str,
    part: Annotated[int, PathParam(ge=1, le=MAX_PARTS)],
    request: Request,
    principal: Writer,
) -> dict[str, Any]:
    """One part of a large file (joined by ``POST .../artifacts/{path}?upload_id=``)."""
    size = await _receive(request, _part_file(principal, upload_id, part))
    return {"upload_id": upload_id, "part": part, "size": size}


@router.post("/runs/{run_id}/artifacts/{path:path}", status_code=201)
def complete_upload(
    run_id: str,
    path: str,
    principal: Writer,
    upload_id: Annotated[str, Query(description="the id the parts were uploaded under")],
    parts: Annotated[int, Query(ge=1, le=MAX_PARTS, description="how many parts")],
) -> dict[str, Any]:
    """Join parts 1..N of ``upload_id`` into the artifact ``path`` of the run."""
    key = _key(run_id, path)
    scoping.check_runs(principal, [run_id])
    files = [_part_file(principal, upload_id, n) for n in range(1, parts + 1)]
    missing = [n for n, f in enumerate(files, 1) if not f.is_file()]
    if missing:
        raise InvalidInput(f"upload {upload_id!r} has no part {missing[0]}; upload it first.")
    folder = files[0].parent
    joined = folder / "joined"
    try:
        with open(joined, "wb") as out:
            for file in files:
                with open(file, "rb") as part_in:
                    shutil.copyfileobj(part_in, out, 1 << 20)
        info = get_artifacts().put_file(key, joined)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"path": check_key(path), "size": info.size, "sha256": info.sha256}


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(
    run_id: str, principal: Reader, path: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Artifact paths of the run (under ``path``), relative to its artifact root."""
    scoping.check_runs(principal, [run_id])
    prefix = runs.artifact_prefix(run_id)
    keys = get_artifacts().list(_key(run_id, path) if path else prefix)
    return {"files": [k[len(prefix) + 1 :] for k in keys]}


@router.get("/runs/{run_id}/artifacts/{path:path}")
def download(run_id: str, path: str, principal: Reader) -> StreamingResponse:
    """The bytes of one artifact file, streamed."""
    key = _key(run_id, path)
    scoping.check_runs(principal, [run_id])
    artifacts = get_artifacts()
    if not artifacts.exists(key) or artifacts.list(key) not in ([], [key]):
        raise NotFound(f"run {run_id!r} has no artifact file {check_key(path)!r}.")
    return StreamingResponse(artifacts.iter_chunks(key), media_type="application/octet-stream")
