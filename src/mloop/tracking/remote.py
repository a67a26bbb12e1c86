"""Tracking through an mloop server: the remote side of :mod:`.runs` and :mod:`.experiments`.

When ``tracking_uri`` names a server, the tracker's store is a
:class:`~mloop.store.remote.RemoteStore` and the store functions of :mod:`.runs`,
:mod:`.experiments` and :mod:`.search` hand their work to the functions here, which
turn the server's JSON into the same entities (docs/decisions/0183-remote-client-seam.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mloop.store.remote import RemoteStore
from mloop.tracking.entities import (
    Experiment,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInput,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RemoteStore"]


def experiment_of(data: dict[str, Any]) -> Experiment:
    return Experiment(**{**data, "experiment_id": str(data["experiment_id"])})


def run_of(data: dict[str, Any]) -> Run:
    metrics = {
        k: float("nan") if v is None else float(v) for k, v in data["data"]["metrics"].items()
    }
    return Run(
        info=RunInfo(**data["info"]),
        data=RunData(
            params=dict(data["data"]["params"]), metrics=metrics, tags=dict(data["data"]["tags"])
        ),
        inputs=tuple(RunInput(**i) for i in data.get("inputs", ())),
    )


# -- experiments -----------------------------------------------------------------------


def create_experiment(
    store: RemoteStore, name: str, artifact_location: str | None, tags: dict[str, str] | None
) -> Experiment:
    body = {"name": name, "artifact_location": artifact_location, "tags": tags or {}}
    return experiment_of(store.request("POST", "/api/v1/experiments", json=body))


def get_experiment(store: RemoteStore, experiment_id: str | int) -> Experiment:
    return experiment_of(store.request("GET", f"/api/v1/experiments/{experiment_id}"))


def experiment_by_name(store: RemoteStore, name: str) -> Experiment | None:
    found = store.experiment_by_name(name)
    return None if found is None else experiment_of(found)


def list_experiments(store: RemoteStore) -> list[Experiment]:
    answer = store.request("GET", "/api/v1/experiments", params={"view": "ALL"})
    return [experiment_of(e) for e in answer["experiments"]]


def experiment_lifecycle(store: RemoteStore, experiment_id: str, stage: str) -> None:
    action = "delete" if stage == "deleted" else "restore"
    store.request("POST", f"/api/v1/experiments/{experiment_id}/{action}")


def experiment_tags(store: RemoteStore, experiment_id: str, tags: dict[str, str]) -> None:
    store.request("PATCH", f"/api/v1/experiments/{experiment_id}", json={"tags": tags})


# -- runs ------------------------------------------------------------------------------


def write_batch(
    store: RemoteStore,
    params: Sequence[tuple[str, str, str]],
    metrics: Sequence[tuple[str, str, float, int, int]],
    tags: Sequence[tuple[str, str, str]],
    created: Sequence[tuple[dict[str, Any], dict[str, str]]],
    ended: Sequence[tuple[str, str, int]],
) -> list[tuple[str, str]]:
    """One flush in one request; the server records the token's user as each run's user."""
    new = [
        {
            "experiment_id": str(row["experiment_id"]),
            "run_id": row["run_id"],
            "run_name": row["name"],
            "tags": run_tags,
            "start_time": row["start_time"],
            "parent_run_id": row["parent_run_id"],
        }
        for row, run_tags in created
    ]
    return store.write_batch(params, metrics, tags, new, ended)


def get_run(store: RemoteStore, run_id: str) -> Run:
    return run_of(store.get_run(run_id))


def set_status(store: RemoteStore, run_id: str, status: str, end_time: int | None) -> None:
    store.request("PATCH", f"/api/v1/runs/{run_id}", json={"status": status, "end_time": end_time})


def heartbeat(store: RemoteStore, run_ids: Sequence[str]) -> None:
    store.request("POST", "/api/v1/runs/heartbeat", json={"run_ids": list(run_ids)})


def metric_history(store: RemoteStore, run_id: str, key: str) -> list[Metric]:
    return [
        Metric(
            m["key"], float("nan") if m["value"] is None else m["value"], m["timestamp"], m["step"]
        )
        for m in store.metric_history(run_id, key)
    ]


def run_lifecycle(store: RemoteStore, run_id: str, stage: str) -> None:
    action = "delete" if stage == "deleted" else "restore"
    store.request("POST", f"/api/v1/runs/{run_id}/{action}")


def delete_tag(store: RemoteStore, run_id: str, key: str) -> None:
    store.request("DELETE", f"/api/v1/runs/{run_id}/tags/{key}")


def search(
    store: RemoteStore,
    experiment_ids: list[int] | None,
    filter_string: str | None,
    order_by: list[str] | None,
    max_results: int,
    run_view_type: str,
) -> list[Run]:
    found = store.search_runs(
        [str(e) for e in experiment_ids or ()],
        filter_string or "",
        order_by or (),
        max_results,
        run_view_type=run_view_type,
    )
    return [run_of(r) for r in found]


def as_frame(found: list[Run]) -> pd.DataFrame:
    """Runs as a DataFrame shaped like MLflow's ``search_runs`` result (as the SQL side)."""
    import numpy as np
    import pandas as pd

    columns: dict[str, Any] = {
        "run_id": [r.info.run_id for r in found],
        "experiment_id": [r.info.experiment_id for r in found],
        "status": [r.info.status for r in found],
        "artifact_uri": [r.info.artifact_uri for r in found],
    }
    for name in ("start_time", "end_time"):
        millis = np.array(
            [np.nan if getattr(r.info, name) is None else getattr(r.info, name) for r in found],
            dtype="float64",
        )
        columns[name] = pd.to_datetime(millis, unit="ms", utc=True)
    for prefix in ("metrics", "params", "tags"):
        keys = sorted({k for r in found for k in getattr(r.data, prefix)})
        for key in keys:
            default = np.nan if prefix == "metrics" else None
            columns[f"{prefix}.{key}"] = [getattr(r.data, prefix).get(key, default) for r in found]
    return pd.DataFrame(columns)
