"""What the registry returns: registered models and their versions, shaped like MLflow's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelVersion:
    """A registered version of a model: its run, flavor, signature, tags and aliases."""

    name: str
    version: int
    run_id: str | None
    source: str  # artifact-store key of the model folder
    flavor: str
    signature: dict[str, Any] | None
    description: str
    status: str
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``name/version``, the id of this version in lineage and the audit log."""
        return f"{self.name}/{self.version}"


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model: its aliases (alias → version), tags and latest version number."""

    name: str
    description: str
    creation_timestamp: int
    last_updated_timestamp: int
    aliases: dict[str, int] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    latest_version: int | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What :func:`mloop.log_model` returns."""

    run_id: str
    artifact_path: str
    model_uri: str  # runs:/<run_id>/<artifact_path>
    flavor: str
    signature: dict[str, Any] | None
    registered_model_version: ModelVersion | None = None
    conversion: dict[str, Any] | None = None  # an ONNX conversion's difference to the original
