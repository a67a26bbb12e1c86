"""The artifact store: files under one root, local or any fsspec URL.

Every write goes to a temporary name and is renamed into place, and its sha256 and
size are recorded in the metadata store; reads check the bytes against that record.
Keys are relative POSIX paths; absolute paths and ``..`` are refused so that nothing
escapes the root.

>>> store = ArtifactStore("/tmp/artifacts", ledger=metadata)
>>> info = store.put_bytes("runs/abc/model.skops", payload)
>>> store.get_bytes("runs/abc/model.skops") == payload
True
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from mloop.core.clock import now_ms
from mloop.core.errors import IntegrityError, InvalidInput, NotFound
from mloop.core.ids import new_id
from mloop.store.schema.artifacts import ArtifactFile

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from mloop.store.db import MetadataStore

_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
_TMP_MARK = ".tmp-"


@dataclass(frozen=True)
class ArtifactInfo:
    """A stored file: its key under the root, sha256 and size in bytes."""

    key: str
    sha256: str
    size: int


def check_key(key: str) -> str:
    """Normalise ``key`` to a relative POSIX path inside the root, or raise InvalidInput."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(
            f"artifact path {key!r} is empty; give a relative path such as 'model/model.skops'."
        )
    if "\\" in key or key.startswith("/") or _DRIVE.match(key) or "://" in key:
        raise InvalidInput(
            f"artifact path {key!r} is absolute; give a path relative to the artifact root, "
            "e.g. 'plots/roc.png'."
        )
    parts = PurePosixPath(key).parts
    if any(part == ".." for part in parts):
        raise InvalidInput(
            f"artifact path {key!r} contains '..' and would escape the artifact root; "
            "remove the '..' segments."
        )
    clean = "/".join(part for part in parts if part != ".")
    if not clean:
        raise InvalidInput(f"artifact path {key!r} names no file.")
    return clean


class ArtifactStore:
    """Files under ``root`` (a local folder or an fsspec URL), with checksums in ``ledger``."""

    def __init__(self, root: str, ledger: MetadataStore) -> None:
        import fsspec

        self.root = root.rstrip("/")
        self.ledger = ledger
        fs, path = fsspec.core.url_to_fs(self.root)
        self.fs: AbstractFileSystem = fs
        self._base = path.rstrip("/")
        self.is_local = "file" in (
            fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        )
        if self.is_local:
            Path(self._base).mkdir(parents=True, exist_ok=True)

    # -- paths ---------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        return f"{self._base}/{check_key(key)}"

    def uri(self, key: str) -> str:
        """The full URL (or local path) of ``key``, for readers such as DuckDB or pyarrow."""
        key = check_key(key)
        return f"{self._base}/{key}" if self.is_local else f"{self.root}/{key}"

    def local_path(self, key: str) -> Path | None:
        """The local file of ``key`` when the root is a local folder, else None."""
        return Path(self._path(key)) if self.is_local else None

    # -- writes --------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes) -> ArtifactInfo:
        """Store ``data`` at ``key`` atomically and record its checksum."""
        key = check_key(key)
        self._write(key, data)
        return self._record(key, hashlib.sha256(data).hexdigest(), len(data))

    def put_file(self, key: str, source: str | os.PathLike[str]) -> ArtifactInfo:
        """Copy the local file ``source`` to ``key`` atomically and record its checksum."""
        key = check_key(key)
        source = Path(source)
        if not source.is_file():
            raise NotFound(f"local file {str(source)!r} does not exist; check the path.")
        final = self._path(key)
        tmp = f"{final}{_TMP_MARK}{new_id()[:12]}"
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with open(source, "rb") as reader, self.fs.open(tmp, "wb") as writer:
            for chunk in iter(lambda: reader.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
        self._commit(tmp, final)
        return self._record(key, digest.hexdigest(), size)

    def put_dir(self, prefix: str, source: str | os.PathLike[str]) -> list[ArtifactInfo]:
        """Copy every file under the local folder ``source`` to ``prefix/<relative path>``."""
        source = Path(source)
        if not source.is_dir():
            raise NotFound(f"local folder {str(source)!r} does not exist; check the path.")
        prefix = check_key(prefix) if prefix else ""
        infos = []
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = file.relative_to(source).as_posix()
            infos.append(self.put_file(f"{prefix}/{relative}" if prefix else relative, file))
        return infos

    def put_content_addressed(self, data: bytes, suffix: str = "") -> ArtifactInfo:
        """Store ``data`` under ``objects/<sha[:2]>/<sha><suffix>`` (written once).

        The key names the checksum, so nothing is recorded in the ledger: reads check the
        bytes against the name (one transaction less per object, e.g. per cached output).
        """
        sha = hashlib.sha256(data).hexdigest()
        key = f"objects/{sha[:2]}/{sha}{suffix}"
        if not self.exists(key):
            self._write(key, data)
        return ArtifactInfo(key, sha, len(data))

    def _write(self, key: str, data: bytes) -> None:
        """Write ``data`` to a temporary name beside ``key``, then rename it into place."""
        final = self._path(key)
        tmp = f"{final}{_TMP_MARK}{new_id()[:12]}"
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        with self.fs.open(tmp, "wb") as stream:
            stream.write(data)
        self._commit(tmp, final)

    def _commit(self, tmp: str, final: str) -> None:
        if self.is_local:
            os.replace(tmp, final)
        else:
            self.fs.mv(tmp, final)

    def _record(self, key: str, sha256: str, size: int) -> ArtifactInfo:
        from mloop.store.schema.artifacts import ArtifactFile as Row

        row = {"path": key, "sha256": sha256, "size": size, "created_at": now_ms()}
        self.ledger.transaction(
            lambda conn: self.ledger.upsert(
                conn,
                Row.__table__,
                [row],
                keys=["path"],
                update=["sha256", "size", "created_at"],
            )
        )
        return ArtifactInfo(key, sha256, size)

    # -- reads ---------------------------------------------------------------------------

    def info(self, key: str) -> ArtifactInfo:
        """The recorded checksum and size of ``key`` (a content-addressed key names its own)."""
        key = check_key(key)
        named = _named_sha256(key)
        if named is not None:
            try:
                return ArtifactInfo(key, named, int(self.fs.size(self._path(key))))
            except FileNotFoundError:
                raise NotFound(
                    f"artifact {key!r} is not in the artifact store {self.root}."
                ) from None
        with self.ledger.read() as conn:
            row = conn.execute(select(ArtifactFile).where(ArtifactFile.path == key)).first()
        if row is None:
            raise NotFound(f"artifact {key!r} is not recorded in the artifact store {self.root}.")
        return ArtifactInfo(key, row.sha256, row.size)

    def get_bytes(self, key: str, verify: bool = True) -> bytes:
        """The bytes of ``key``; with ``verify`` they must match the recorded sha256."""
        key = check_key(key)
        expected = self.info(key) if verify else None
        try:
            with self.fs.open(self._path(key), "rb") as stream:
                data: bytes = stream.read()
        except FileNotFoundError:
            raise NotFound(
                f"artifact {key!r} is recorded but its file is missing under {self.root}."
            ) from None
        if expected is not None:
            _check(key, hashlib.sha256(data).hexdigest(), expected.sha256)
        return data

    def download(self, key: str, destination: str | os.PathLike[str], verify: bool = True) -> Path:
        """Copy ``key`` to the local path ``destination``, checking its sha256."""
        key = check_key(key)
        expected = self.info(key) if verify else None
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        tmp = destination.with_name(destination.name + _TMP_MARK + new_id()[:12])
        try:
            with self.fs.open(self._path(key), "rb") as reader, open(tmp, "wb") as writer:
                for chunk in iter(lambda: reader.read(_CHUNK), b""):
                    digest.update(chunk)
                    writer.write(chunk)
        except FileNotFoundError:
            tmp.unlink(missing_ok=True)
            raise NotFound(
                f"artifact {key!r} is recorded but its file is missing under {self.root}."
            ) from None
        if expected is not None:
            try:
                _check(key, digest.hexdigest(), expected.sha256)
            except IntegrityError:
                tmp.unlink(missing_ok=True)
                raise
        os.replace(tmp, destination)
        return destination

    def download_dir(self, prefix: str, destination: str | os.PathLike[str]) -> Path:
        """Copy every artifact under ``prefix`` into the local folder ``destination``."""
        destination = Path(destination)
        prefix = check_key(prefix)
        for key in self.list(prefix):
            self.download(key, destination / key[len(prefix) + 1 :])
        return destination

    def verify(self, key: str) -> ArtifactInfo:
        """Recompute the sha256 of ``key`` and compare it with the record."""
        key = check_key(key)
        expected = self.info(key)
        digest = hashlib.sha256()
        with self.fs.open(self._path(key), "rb") as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                digest.update(chunk)
        _check(key, digest.hexdigest(), expected.sha256)
        return expected

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def list(self, prefix: str = "") -> list[str]:
        """Keys of the files under ``prefix`` (recursively), sorted."""
        base = self._path(prefix) if prefix else self._base
        if not self.fs.exists(base):
            return []
        found = self.fs.find(base)
        start = len(self._base.rstrip("/")) + 1
        return sorted(
            str(path)[start:] if self.is_local else _strip(str(path), self._base)
            for path in found
            if _TMP_MARK not in str(path).rsplit("/", 1)[-1]
        )

    def delete(self, key: str) -> None:
        """Remove ``key`` and its record."""
        key = check_key(key)
        if self.fs.exists(self._path(key)):
            self.fs.rm(self._path(key))
        self.ledger.transaction(
            lambda conn: conn.execute(delete(ArtifactFile).where(ArtifactFile.path == key))
        )

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        """Stream the bytes of ``key`` without verification (for large files)."""
        with self.fs.open(self._path(key), "rb") as stream:
            yield from iter(lambda: stream.read(_CHUNK), b"")

    def __repr__(self) -> str:
        return f"ArtifactStore({self.root!r})"


def _strip(path: str, base: str) -> str:
    base = base.strip("/")
    path = path.strip("/")
    return path[len(base) + 1 :] if path.startswith(base + "/") else path


def _check(key: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise IntegrityError(
            f"artifact {key!r} is corrupt: its sha256 is {actual[:12]}… but {expected[:12]}… was "
            "recorded when it was written. Restore the file or log the artifact again."
        )


_HEX = frozenset("0123456789abcdef")


def _named_sha256(key: str) -> str | None:
    """The sha256 a content-addressed key (``objects/ab/abcd…<suffix>``) names, else None."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "objects":
        return None
    sha = parts[2][:64]
    if len(sha) == 64 and set(sha) <= _HEX and parts[1] == sha[:2]:
        return sha
    return None
