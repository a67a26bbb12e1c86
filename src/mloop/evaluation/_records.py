"""Evidence kept for a model version: its latest evaluation and gate result.

Each is a JSON artifact; a version tag (``mloop.evaluation``, ``mloop.gate``) points at
the newest one, so a model card can be rebuilt later from what was recorded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mloop.core.errors import NotFound
from mloop.core.ids import new_id
from mloop.registry import set_version_tag
from mloop.store import get_artifacts
from mloop.tracking.runs import artifact_prefix

if TYPE_CHECKING:
    from mloop.registry import ModelVersion

TAGS = {"evaluation": "mloop.evaluation", "gate": "mloop.gate"}


def save(version_key: str, kind: str, payload: dict[str, Any], key: str | None = None) -> str:
    """Store ``payload`` (unless it is already at ``key``) and point the version's tag at it."""
    name, version = version_key.rsplit("/", 1)
    if key is None:
        key = f"evaluations/{name}/{version}/{kind}-{new_id()}.json"
        get_artifacts().put_bytes(key, json.dumps(payload, indent=2, default=str).encode())
    set_version_tag(name, version, TAGS[kind], key)
    return key


def load(version: ModelVersion, kind: str) -> dict[str, Any] | None:
    """The newest recorded ``kind`` for ``version``; for evaluations, else one logged in its
    training run (``evaluation/result.json``)."""
    artifacts = get_artifacts()
    key = version.tags.get(TAGS[kind])
    if key is None and kind == "evaluation" and version.run_id:
        prefix = artifact_prefix(version.run_id)
        found = sorted(k for k in artifacts.list(prefix) if k.endswith("/result.json"))
        preferred = f"{prefix}/evaluation/result.json"
        key = preferred if preferred in found else (found[0] if found else None)
    if key is None:
        return None
    try:
        data: dict[str, Any] = json.loads(artifacts.get_bytes(key))
    except NotFound:
        return None
    return data
