"""``TrackingClient``: the tracking API addressed by ids, with MLflow's client method names.

``mloop.Client`` (in :mod:`mloop.registry`) extends it with the registry methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mloop.core.clock import now_ms
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.tracking import experiments, names, runs
from mloop.tracking.entities import FINISHED, Experiment, Metric, Run, RunInfo, RunList
from mloop.tracking.system_tags import RUN_NAME, canonical
from mloop.tracking.tracker import Tracker, check_key, get_tracker


class TrackingClient:
    """Runs and experiments by id.

    >>> client = TrackingClient()
    >>> run = client.create_run(client.get_experiment_by_name("Default").experiment_id)
    >>> client.log_metric(run.info.run_id, "loss", 0.3, step=1)
    >>> client.set_terminated(run.info.run_id)
    """

    def __init__(self) -> None:
        self._tracker: Tracker | None = None

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            self._tracker = get_tracker()
        return self._tracker

    @property
    def store(self) -> Any:
        return self.tracker.store

    # experiments
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        return experiments.create(self.store, name, artifact_location, tags).experiment_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        return experiments.get(self.store, experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return experiments.get_by_name(self.store, name)

    def search_experiments(self) -> list[Experiment]:
        return experiments.search(self.store)

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment and its runs (searches hide them until restored)."""
        self.tracker.flush()
        experiments.set_lifecycle(self.store, experiment_id, "deleted")

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment with its runs."""
        experiments.set_lifecycle(self.store, experiment_id, "active")

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        experiments.set_tags(self.store, experiment_id, {check_key(key, "tag"): str(value)})

    # runs
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        from mloop.store import get_artifacts

        run_id = new_id()
        user_tags = {canonical(check_key(k, "tag")): str(v) for k, v in (tags or {}).items()}
        name = run_name or user_tags.get(RUN_NAME) or names.run_name()
        info: RunInfo = runs.create(
            self.store,
            run_id=run_id,
            experiment_id=experiments.check_active(
                experiments.get(self.store, experiment_id)
            ).experiment_id,
            run_name=name,
            user=current_actor(),
            artifact_uri=get_artifacts().uri(runs.artifact_prefix(run_id)),
            parent_run_id=None,
            tags={**user_tags, RUN_NAME: name},
            start_time=start_time,
        )
        self.tracker.writer.alive.add(info.run_id)
        return self.get_run(info.run_id)

    def get_run(self, run_id: str) -> Run:
        self.tracker.flush()
        return runs.get(self.store, run_id)

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        self.tracker.log_param(run_id, key, value)
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        self.tracker.log_metric(run_id, key, value, step, timestamp)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.tracker.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag of a run (an error if it has no such tag)."""
        self.tracker.flush()
        runs.delete_tag(self.store, run_id, canonical(key))

    def delete_run(self, run_id: str) -> None:
        """Delete a run: its data stays, searches hide it until :meth:`restore_run`."""
        self.tracker.flush()
        runs.set_lifecycle(self.store, run_id, "deleted")

    def restore_run(self, run_id: str) -> None:
        runs.set_lifecycle(self.store, run_id, "active")

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
    ) -> None:
        """Log many values at once (``metrics`` as :class:`Metric` entities)."""
        for key, value in (params or {}).items():
            self.tracker.log_param(run_id, key, value)
        for key, value in (tags or {}).items():
            self.tracker.set_tag(run_id, key, value)
        for metric in metrics:
            self.tracker.log_metric(run_id, metric.key, metric.value, metric.step, metric.timestamp)

    def set_terminated(
        self, run_id: str, status: str = FINISHED, end_time: int | None = None
    ) -> None:
        self.tracker.flush()
        runs.set_status(self.store, run_id, status, end_time or now_ms())
        self.tracker.writer.alive.discard(run_id)
        self.tracker.raise_conflicts([run_id])

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self.tracker.flush()
        return runs.metric_history(self.store, run_id, key)

    def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        run_view_type: str = "ACTIVE_ONLY",
        max_results: int = 1000,
        order_by: list[str] | None = None,
    ) -> list[Run]:
        from mloop.tracking.search import search

        self.tracker.flush()
        ids = [int(experiments.get(self.store, i).experiment_id) for i in experiment_ids]
        return RunList(search(self.store, ids, filter_string, order_by, max_results, run_view_type))

    # artifacts
    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> str:
        source = Path(local_path)
        parts = [
            runs.artifact_prefix(run_id),
            artifact_path.strip("/") if artifact_path else None,
            source.name,
        ]
        key = "/".join(p for p in parts if p)
        self.tracker.artifacts.put_file(key, source)
        return key

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[str]:
        """Artifact paths of the run, relative to its artifact root."""
        prefix = runs.artifact_prefix(run_id)
        keys = self.tracker.artifacts.list(f"{prefix}/{path.strip('/')}" if path else prefix)
        return [key[len(prefix) + 1 :] for key in keys]

    def download_artifacts(self, run_id: str, path: str, dst_path: str | Path) -> Path:
        """Copy an artifact file or folder of the run to ``dst_path`` (checksums checked)."""
        key = f"{runs.artifact_prefix(run_id)}/{path.strip('/')}"
        artifacts = self.tracker.artifacts
        destination = Path(dst_path)
        if artifacts.list(key) not in ([], [key]):
            return artifacts.download_dir(key, destination / Path(path).name)
        return artifacts.download(key, destination / Path(path).name)
