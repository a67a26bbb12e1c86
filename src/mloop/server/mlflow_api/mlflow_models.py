"""Models logged by the MLflow client, made loadable by mloop when their format is safe.

An MLflow model folder has an ``MLmodel`` file (YAML) naming its flavors. A scikit-learn
model saved with skops (MLflow 3's default outside Databricks) is what mloop's ``sklearn``
flavor stores too: registering it writes mloop's ``MLmodel.json`` beside MLflow's files,
so ``mloop.load_model`` and ``mloop serve`` load it through the same trust rules as any
skops file (exact reviewed type names only). A pickle or cloudpickle file is never
unpickled: the version is registered (an MLflow client can still load it) and mloop's
loader refuses it with the reason. See docs/decisions/0184-mlflow-rest-api.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound
from mloop.registry.models import META_FILE
from mloop.registry.signature import TYPES
from mloop.store.artifacts import ArtifactStore

MLMODEL = "MLmodel"
LOADABLE_TAG = "mloop.loadable"


@dataclass(frozen=True)
class Prepared:
    """What registering an MLflow model folder records: mloop flavor, signature, tags."""

    flavor: str
    signature: dict[str, Any] | None
    tags: dict[str, str] = field(default_factory=dict)


def _read(artifacts: ArtifactStore, folder: str) -> dict[str, Any]:
    try:
        raw = artifacts.get_bytes(f"{folder}/{MLMODEL}")
    except NotFound:
        raise NotFound(
            f"no model was logged at {folder!r} (it has no MLmodel file); upload the model's "
            "files before registering it."
        ) from None
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"the MLmodel file of {folder!r} is not valid YAML ({exc}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("flavors"), dict):
        raise InvalidInput(f"the MLmodel file of {folder!r} has no 'flavors' section.")
    return document


def signature(document: dict[str, Any]) -> dict[str, Any] | None:
    """mloop's signature from MLflow's column-based one (None for tensors or none given)."""
    given = document.get("signature") or {}

    def columns(text: Any) -> list[dict[str, Any]] | None:
        try:
            specs = json.loads(text) if isinstance(text, str) else []
        except ValueError:
            return None
        converted = []
        for spec in specs:
            if not isinstance(spec, dict) or spec.get("type") not in TYPES or "name" not in spec:
                return None
            converted.append(
                {
                    "name": str(spec["name"]),
                    "type": spec["type"],
                    "optional": not spec.get("required", True),
                }
            )
        return converted

    inputs = columns(given.get("inputs"))
    if not inputs:
        return None
    return {"inputs": inputs, "outputs": columns(given.get("outputs")) or []}


def prepare(
    artifacts: ArtifactStore, folder: str, run_id: str | None, model_id: str | None
) -> Prepared:
    """Read the MLflow model at ``folder`` and, for a skops scikit-learn model, write the
    metadata mloop loads it with."""
    document = _read(artifacts, folder)
    flavors = document["flavors"]
    sklearn = flavors.get("sklearn")
    if not isinstance(sklearn, dict):
        first = next(iter(flavors), "unknown")
        return Prepared(
            f"mlflow.{first}",
            None,
            {LOADABLE_TAG: f"no: MLflow flavor {first!r} has no mloop loader"},
        )
    model_file = str(sklearn.get("pickled_model") or "")
    fmt = str(sklearn.get("serialization_format") or "")
    sig = signature(document)
    about: dict[str, Any] = {
        "logged_by": "mlflow",
        "mlflow_version": document.get("mlflow_version"),
    }
    if model_id:
        about["mlflow_model_id"] = model_id
    meta = {
        "flavor": "sklearn",
        "model_file": model_file,
        "signature": sig,
        "input_example": None,
        "run_id": run_id,
        "artifact_path": folder.rsplit("/", 1)[-1],
        "created_at": now_ms(),
        "library_versions": {"scikit-learn": str(sklearn.get("sklearn_version") or "")},
        "metadata": about,
    }
    tags = {}
    if fmt != "skops":
        # the loader reads the file as skops and refuses it: nothing is unpickled
        tags[LOADABLE_TAG] = (
            f"no: MLflow saved it as {fmt or 'pickle'}, which mloop never unpickles; log it "
            "with mlflow.sklearn.log_model(..., serialization_format='skops')"
        )
    artifacts.put_bytes(f"{folder}/{META_FILE}", json.dumps(meta, indent=2).encode())
    return Prepared("sklearn", sig, tags)
