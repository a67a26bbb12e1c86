"""What every flavor works with: the files of a saved model, going out and coming back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mloop.core.errors import InvalidInput, NotFound
from mloop.store.artifacts import ArtifactStore
from mloop.store.remote import RemoteArtifacts


@dataclass(frozen=True)
class Saved:
    """A saved model: its files (name -> bytes, or name -> local path to copy, a file or
    a folder), the flavor's metadata, the distributions it needs at load time (their
    versions are recorded at log time), the live model to infer its signature from, and
    the signature when the flavor infers its own (tensor shapes)."""

    files: dict[str, bytes | Path]
    meta: dict[str, Any] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
    predictor: Any = None
    signature: Any = None


@dataclass(frozen=True)
class ModelFiles:
    """The files of one logged model, each checked against its recorded sha256 on read
    (``label`` names the model in errors)."""

    store: ArtifactStore | RemoteArtifacts
    folder: str
    label: str = "the model"

    def read(self, name: str) -> bytes:
        """The bytes of one file of the model.

        Raises:
            NotFound: the file is missing (never recorded, or deleted from the store).
        """
        try:
            return self.store.get_bytes(f"{self.folder}/{name}")
        except NotFound as exc:
            raise NotFound(
                f"{self.label}: its file {name!r} is missing ({exc}); restore the artifact "
                "store from a backup, or log and register the model again."
            ) from None

    def download(self, name: str, destination: Path, folder: bool = False) -> Path:
        """Copy a file (or, with ``folder``, every file under a folder) of the model to
        ``destination``, each checked against its sha256.

        Raises:
            NotFound: the file, or every file of the folder, is missing.
        """
        key = f"{self.folder}/{name}"
        if not folder:
            return self.store.download(key, destination)
        if not self.store.list(key):
            raise NotFound(f"artifact folder {key!r} is empty or missing in the artifact store.")
        return self.store.download_dir(key, destination)


def input_columns(label: str, wanted: list[str], frame: Any) -> list[str]:
    """The columns a tensor model reads from ``frame`` (``wanted``, else all of them), or an
    error naming the first one the input lacks."""
    columns = wanted or [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"{label} needs field {missing[0]!r}, which the input lacks; send the "
            f"columns {', '.join(columns)}."
        )
    return columns
