"""The immediate children of an artifact folder, as MLflow's ``FileInfo`` entries."""

from __future__ import annotations

from typing import Any

from mloop.store.artifacts import ArtifactStore


def children(artifacts: ArtifactStore, prefix: str) -> list[dict[str, Any]]:
    """Files (with their size) and folders directly under ``prefix``, sorted by name.

    A ``prefix`` naming a file lists nothing, as MLflow's stores answer for a file.
    """
    keys = artifacts.list(prefix)
    if keys == [prefix]:
        return []
    start = len(prefix) + 1
    folders: set[str] = set()
    files: list[dict[str, Any]] = []
    for key in keys:
        relative = key[start:]
        head, sep, _ = relative.partition("/")
        if sep:
            folders.add(head)
        else:
            files.append({"path": head, "is_dir": False, "file_size": artifacts.info(key).size})
    entries = files + [{"path": name, "is_dir": True} for name in folders]
    return sorted(entries, key=lambda entry: entry["path"])
