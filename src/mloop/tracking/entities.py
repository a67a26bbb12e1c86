"""What tracking returns: experiments, runs and metrics, shaped like MLflow's entities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mloop.core import display

RUNNING = "RUNNING"
SCHEDULED = "SCHEDULED"
FINISHED = "FINISHED"
FAILED = "FAILED"
KILLED = "KILLED"
STATUSES = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
TERMINAL = (FINISHED, FAILED, KILLED)


@dataclass(frozen=True)
class Experiment:
    """A named group of runs; ``lifecycle_stage`` is ``active`` or ``deleted``."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    tags: dict[str, str]
    creation_time: int
    last_update_time: int


@dataclass(frozen=True)
class Metric:
    """One logged value of a metric: ``timestamp`` in epoch milliseconds."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class RunInfo:
    """Who, when and where of a run; times in epoch milliseconds, ``end_time`` None while it runs."""

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
    """The params, latest metric values and tags of a run."""

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
    """A run: ``info`` (id, name, status, times), ``data`` (params, metrics, tags), inputs."""

    info: RunInfo
    data: RunData
    inputs: tuple[RunInput, ...] = ()

    def _repr_html_(self) -> str:
        """Status, times, params, metrics and tags, for notebooks."""
        info = self.info
        head = {
            "id": info.run_id,
            "status": display.badge(info.status, _TONES.get(info.status, "info")),
            "experiment": info.experiment_id,
            "started": display.when(info.start_time),
            "ended": display.when(info.end_time),
            "by": info.user_id or None,
        }
        values = [
            *(("metric", k, v) for k, v in sorted(self.data.metrics.items())),
            *(("param", k, v) for k, v in sorted(self.data.params.items())),
            *(
                ("tag", k, v)
                for k, v in sorted(self.data.tags.items())
                if not k.startswith("mloop.")
            ),
            *(("input", i.kind, i.id) for i in self.inputs),
        ]
        return display.block(
            f"Run {info.run_name}",
            display.facts(head),
            display.table(("", "name", "value"), values, limit=60),
        )

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


_TONES = {FINISHED: "ok", FAILED: "fail", KILLED: "warn", RUNNING: "info"}
_SHOWN = 8  # metric and param columns a runs table shows


class RunList(list[Run]):
    """Runs found by a search: a ``list`` of :class:`Run`, shown as a table in a notebook."""

    def __init__(self, runs: Sequence[Run] = ()) -> None:
        super().__init__(runs)

    def _repr_html_(self) -> str:
        """One row per run: name, status, start, then the first metrics and params."""
        metrics = list(dict.fromkeys(k for run in self for k in sorted(run.data.metrics)))
        params = list(dict.fromkeys(k for run in self for k in sorted(run.data.params)))
        metrics, params = metrics[:_SHOWN], params[:_SHOWN]
        columns = [
            "run",
            "status",
            "started",
            *(f"metrics.{k}" for k in metrics),
            *(f"params.{k}" for k in params),
        ]
        rows = [
            (
                run.info.run_name or run.info.run_id,
                display.badge(run.info.status, _TONES.get(run.info.status, "info")),
                display.when(run.info.start_time),
                *(run.data.metrics.get(k) for k in metrics),
                *(run.data.params.get(k) for k in params),
            )
            for run in self
        ]
        return display.block(f"{len(self)} runs", display.table(columns, rows, limit=50))
