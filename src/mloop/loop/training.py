"""The training step of a retraining: what the training function gets and must return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mloop.core.errors import MloopError
from mloop.registry import ModelInfo, ModelVersion, get_version

if TYPE_CHECKING:
    from mloop.monitoring import Window

__all__ = ["TrainingContext", "TrainingFailed", "version_of"]


@dataclass
class TrainingContext:
    """What the training function gets: the model, the cut-off time and why it runs."""

    policy: str
    model: str
    decision_id: str
    until: int  # epoch ms: train on data strictly before this time
    now: int
    trigger: str
    reason: str
    champion_version: int
    evaluation_window: Window | None = None
    reference_data: Any = field(default=None, repr=False)
    reference_target: str | None = None

    @property
    def until_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.until / 1000, tz=UTC)

    def set_reference(self, data: Any, target: str | None = None) -> None:
        """Rows to profile as the challenger's monitoring reference (e.g. its validation set)."""
        self.reference_data = data
        self.reference_target = target


class TrainingFailed(MloopError):
    """The training step of a retraining did not produce a usable challenger."""

    http_status = 500


def version_of(model: str, produced: Any) -> ModelVersion:
    if isinstance(produced, ModelInfo):
        produced = produced.registered_model_version
    if isinstance(produced, ModelVersion):
        if produced.name != model:
            raise TrainingFailed(
                f"the training function registered {produced.name!r}, not {model!r}; register the "
                "challenger under the policy's model."
            )
        return produced
    if isinstance(produced, int) and not isinstance(produced, bool):
        return get_version(model, produced)
    raise TrainingFailed(
        f"the training function returned {produced!r}; return the registered ModelVersion, the "
        "ModelInfo of log_model(..., registered_model_name=...) or the version number."
    )
