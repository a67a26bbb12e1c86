"""What tracking returns: experiments, runs and metrics, shaped like MLflow's entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUNNING = "RUNNING"
SCHEDULED = "SCHEDULED"
FINISHED = "FINISHED"
FAILED = "FAILED"
KILLED = "KILLED"
STATUSES = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
TERMINAL = (FINISHED, FAILED, KILLED)


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str]
    creation_time: int
    last_update_time: int


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    user_id: str
    lifecycle_stage: str
    parent_run_id: str | None = None

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for ``run_id``."""
        return self.run_id


@dataclass(frozen=True)
class RunData:
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunInput:
    """A dataset, training set or other input a run read, from lineage."""

    kind: str
    id: str
    context: str | None


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData
    inputs: tuple[RunInput, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "info": {**self.info.__dict__},
            "data": {
                "params": dict(self.data.params),
                "metrics": dict(self.data.metrics),
                "tags": dict(self.data.tags),
            },
            "inputs": [i.__dict__ for i in self.inputs],
        }
