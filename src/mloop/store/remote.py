"""The stores over HTTP: a client of ``mloop server``'s ``/api/v1`` (docs/server.md).

:class:`RemoteStore` is the HTTP side of the store protocols the tracking layer uses: one
``write_batch`` call carries a whole write-behind flush (new runs, params, metrics, tags,
ends) in one request. Idempotent calls and calls with an idempotency key are retried with
jittered exponential back-off on connection errors and 502/503/504; the key makes a
retried batch apply once. An unreachable server is a :class:`StoreUnavailable` naming the
URL and what to check.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    MloopError,
    NotFound,
    StoreUnavailable,
)
from mloop.store.artifacts import ArtifactInfo

if TYPE_CHECKING:
    import httpx

IDEMPOTENCY_HEADER = "Idempotency-Key"
WORKSPACE_HEADER = "X-Mloop-Workspace"
_RETRY_STATUS = {502, 503, 504}


class AccessDenied(MloopError):
    """The server refused the token (401) or its role or scopes (403)."""

    http_status = 403


_ERRORS: dict[int, type[MloopError]] = {
    400: InvalidInput,
    401: AccessDenied,
    403: AccessDenied,
    404: NotFound,
    409: Conflict,
    422: InvalidInput,
}


class RemoteStore:
    """HTTP calls to one mloop server.

    >>> remote = RemoteStore("http://127.0.0.1:5000", token="mlp_...")
    >>> remote.request("GET", "/api/v1/auth/whoami")["name"]
    'ada'
    """

    def __init__(
        self,
        url: str,
        token: str = "",
        workspace: str = "default",
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.2,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"tracking_uri {url!r} is not an http(s) URL; use e.g. http://mloop.example:5000."
            )
        self.url = url.rstrip("/")
        self.display_url = self.url
        self.retries = retries
        self.backoff = backoff
        headers = {WORKSPACE_HEADER: workspace}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        import httpx

        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    # -- transport -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send a request; the decoded JSON answer, or the mloop error the server named."""
        retry = method in ("GET", "PUT", "DELETE") or idempotency_key is not None
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else None
        attempts = self.retries + 1 if retry and not isinstance(content, Iterator) else 1
        for attempt in range(attempts):
            try:
                answer = self._http.request(
                    method, path, json=json, params=params, content=content, headers=headers
                )
            except Exception as exc:
                if not _is_transport_error(exc):
                    raise
                if attempt == attempts - 1:
                    raise StoreUnavailable(
                        f"the mloop server at {self.url} is unreachable ({type(exc).__name__}: "
                        f"{exc}); check that `mloop server` runs there, that MLOOP_TRACKING_URI "
                        "is right, and that this machine can reach it."
                    ) from None
            else:
                if answer.status_code not in _RETRY_STATUS or attempt == attempts - 1:
                    return self._decode(answer)
            time.sleep(min(5.0, self.backoff * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def _decode(self, answer: httpx.Response) -> Any:
        if answer.status_code < 400:
            return answer.json() if answer.content else None
        try:
            message = str(answer.json().get("message", answer.text))
        except ValueError:
            message = answer.text[:500]
        error = _ERRORS.get(answer.status_code)
        if answer.status_code == 409 and "already exists" in message:
            error = AlreadyExists
        if error is None:
            error = StoreUnavailable if answer.status_code >= 500 else MloopError
        raise error(f"{message} (mloop server {self.url}, HTTP {answer.status_code})")

    # -- tracking --------------------------------------------------------------------

    def write_batch(
        self,
        params: Sequence[tuple[str, str, str]] = (),
        metrics: Sequence[tuple[str, str, float, int, int]] = (),
        tags: Sequence[tuple[str, str, str]] = (),
        created: Sequence[dict[str, Any]] = (),
        ended: Sequence[tuple[str, str, int]] = (),
    ) -> list[tuple[str, str]]:
        """One flush in one request (retried safely under one idempotency key)."""
        body = {
            "created": list(created),
            "params": [list(p) for p in params],
            "metrics": [[r, k, None if v != v else v, s, t] for r, k, v, s, t in metrics],
            "tags": [list(t) for t in tags],
            "ended": [list(e) for e in ended],
        }
        answer = self.request(
            "POST", "/api/v1/runs/batch", json=body, idempotency_key=uuid.uuid4().hex
        )
        return [(c["run_id"], c["message"]) for c in answer["conflicts"]]

    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
        return dict(
            self.request("POST", "/api/v1/experiments", json={"name": name, "tags": tags or {}})
        )

    def experiment_by_name(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.request("GET", f"/api/v1/experiments/by-name/{name}"))
        except NotFound:
            return None

    def get_run(self, run_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/v1/runs/{run_id}"))

    def metric_history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"/api/v1/runs/{run_id}/metrics/{key}")["metrics"])

    def search_runs(
        self,
        experiment_ids: Sequence[str] = (),
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 1000,
        page_size: int = 1000,
        run_view_type: str = "ACTIVE_ONLY",
    ) -> Iterator[dict[str, Any]]:
        """Matching runs, fetched page by page (``max_results`` at most)."""
        token: str | None = None
        sent = 0
        while sent < max_results:
            body = {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string,
                "order_by": list(order_by),
                "max_results": min(page_size, max_results - sent),
                "page_token": token,
                "run_view_type": run_view_type,
            }
            page = self.request("POST", "/api/v1/runs/search", json=body, idempotency_key=None)
            yield from page["runs"]
            sent += len(page["runs"])
            token = page["next_page_token"]
            if token is None:
                return

    def upload_artifact(self, run_id: str, path: str, source: str | Path) -> dict[str, Any]:
        """Upload a local file (streamed from disk) as the run's artifact ``path``."""
        data = Path(source).read_bytes() if Path(source).stat().st_size < (8 << 20) else None
        content: bytes | Iterator[bytes] = data if data is not None else _chunks(Path(source))
        return dict(self.request("PUT", f"/api/v1/runs/{run_id}/artifacts/{path}", content=content))

    def download_artifact(self, run_id: str, path: str, destination: str | Path) -> Path:
        """Stream the run's artifact ``path`` into the file ``destination``."""
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._http.stream("GET", f"/api/v1/runs/{run_id}/artifacts/{path}") as answer:
            if answer.status_code >= 400:
                answer.read()
                self._decode(answer)
            with open(target, "wb") as out:
                for chunk in answer.iter_bytes(1 << 20):
                    out.write(chunk)
        return target


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        yield from iter(lambda: stream.read(1 << 20), b"")


def _is_transport_error(exc: Exception) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError)


_RUN_KEY = re.compile(r"^runs/(?P<run_id>[^/]+)/artifacts(?:/(?P<path>.*))?$")


class RemoteArtifacts:
    """The artifact calls of tracking (keys ``runs/<id>/artifacts/<path>``) through the server.

    Only run artifacts travel this way; the bytes never need bucket credentials on the client.
    """

    def __init__(self, remote: RemoteStore, before: Callable[[], None] | None = None) -> None:
        self.remote = remote
        # the tracker's flush: a run still in the write-behind buffer exists on the server
        # before its artifacts are sent
        self.before = before

    def _split(self, key: str, flush: bool = True) -> tuple[str, str]:
        if flush and self.before is not None:
            self.before()
        match = _RUN_KEY.match(key)
        if match is None:
            raise InvalidInput(
                f"artifact key {key!r} is not a run artifact; through an mloop server only "
                "run artifacts (runs/<run_id>/artifacts/...) are available."
            )
        return match["run_id"], match["path"] or ""

    def uri(self, key: str) -> str:
        run_id, path = self._split(key, flush=False)
        return f"{self.remote.url}/api/v1/runs/{run_id}/artifacts/{path}".rstrip("/")

    def put_file(self, key: str, source: str | Path) -> ArtifactInfo:
        run_id, path = self._split(key)
        stored = self.remote.upload_artifact(run_id, path, source)
        return ArtifactInfo(key, stored["sha256"], stored["size"])

    def put_bytes(self, key: str, data: bytes) -> ArtifactInfo:
        run_id, path = self._split(key)
        url = f"/api/v1/runs/{run_id}/artifacts/{path}"
        stored = self.remote.request("PUT", url, content=data)
        return ArtifactInfo(key, stored["sha256"], stored["size"])

    def put_dir(self, prefix: str, source: str | Path) -> list[ArtifactInfo]:
        folder = Path(source)
        if not folder.is_dir():
            raise NotFound(f"local folder {str(folder)!r} does not exist; check the path.")
        return [
            self.put_file(f"{prefix}/{path.relative_to(folder).as_posix()}", path)
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        ]

    def list(self, prefix: str = "") -> list[str]:
        run_id, path = self._split(prefix)
        params = {"path": path} if path else None
        files = self.remote.request("GET", f"/api/v1/runs/{run_id}/artifacts", params=params)
        return [f"runs/{run_id}/artifacts/{name}" for name in files["files"]]

    def exists(self, key: str) -> bool:
        return key in self.list(key)

    def download(self, key: str, destination: str | Path, verify: bool = True) -> Path:
        run_id, path = self._split(key)
        return self.remote.download_artifact(run_id, path, destination)

    def download_dir(self, prefix: str, destination: str | Path) -> Path:
        target = Path(destination)
        for key in self.list(prefix):
            self.download(key, target / key[len(prefix) :].lstrip("/"))
        return target

    def get_bytes(self, key: str, verify: bool = True) -> bytes:
        run_id, path = self._split(key)
        answer = self.remote._http.get(f"/api/v1/runs/{run_id}/artifacts/{path}")
        if answer.status_code >= 400:
            self.remote._decode(answer)
        return answer.content
