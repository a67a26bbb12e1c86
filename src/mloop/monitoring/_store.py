"""Reading and writing references and windows: rows in the metadata store, profiles as artifacts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import NotFound
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.data import Profile
from mloop.monitoring.reference import Reference
from mloop.monitoring.report import DriftReport
from mloop.monitoring.window import Window
from mloop.store import audit, get_artifacts, get_store, lineage
from mloop.store.schema.monitoring import LoopDecision, MonitoringReference, MonitoringWindow

if TYPE_CHECKING:
    from mloop.store.lineage import Node


def _key(*parts: Any) -> str:
    safe = [str(p).replace("/", "_") for p in parts]
    return "monitoring/" + "/".join(safe) + ".json"


def save_reference(reference: Reference, source: Node | None) -> Reference:
    key = _key("references", reference.model_name, reference.model_version)
    get_artifacts().put_bytes(key, reference.profile.to_json().encode())
    reference.created_at = now_ms()
    row = {
        "model_name": reference.model_name,
        "model_version": reference.model_version,
        "artifact_key": key,
        "num_rows": reference.num_rows,
        "spec": json.dumps(reference.spec(), default=str),
        "created_at": reference.created_at,
    }
    store = get_store()

    def work(conn: Connection) -> None:
        store.upsert(
            conn,
            MonitoringReference.__table__,
            [row],
            keys=["model_name", "model_version"],
            update=["artifact_key", "num_rows", "spec", "created_at"],
        )
        audit.record(
            conn,
            actor=current_actor(),
            action="monitoring.reference",
            object_kind="model_version",
            object_id=f"{reference.model_name}/{reference.model_version}",
            to_value=key,
            details={"rows": reference.num_rows, "features": reference.features},
        )

    store.transaction(work)
    if source is not None:
        lineage.add_edge(
            store,
            source,
            "reference_of",
            lineage.Node("model_version", f"{reference.model_name}/{reference.model_version}"),
        )
    return reference


def load_reference(model: str, version: int) -> Reference:
    with get_store().read() as conn:
        row = conn.execute(
            select(MonitoringReference).where(
                MonitoringReference.model_name == model,
                MonitoringReference.model_version == int(version),
            )
        ).first()
    if row is None:
        raise NotFound(
            f"model {model!r} version {version} has no monitoring reference; make one from its "
            f"training data: mloop.monitoring.set_reference({model!r}, {version}, train_df, "
            "target='label_column')."
        )
    spec = json.loads(row.spec)
    profile = Profile.from_json(get_artifacts().get_bytes(row.artifact_key).decode())
    return Reference(
        model_name=model,
        model_version=int(version),
        profile=profile,
        features=spec["features"],
        outputs=spec["outputs"],
        task=spec["task"],
        label=spec.get("label"),
        importance=spec.get("importance"),
        classes=spec.get("classes"),
        metrics=spec.get("metrics") or {},
        slices=spec.get("slices") or [],
        num_rows=int(row.num_rows),
        created_at=int(row.created_at),
    )


# -- windows -----------------------------------------------------------------------------


def save_window(window: Window, profile: Profile | None) -> Window:
    """Insert the window, or replace the stored one of the same model, version and period."""
    store = get_store()
    if profile is not None:
        key = _key(
            "windows", window.model_name, window.model_version, f"{window.start}-{window.end}"
        )
        get_artifacts().put_bytes(key, profile.to_json().encode())
        window.profile_key = key
    now = now_ms()
    window.id = window.id or new_id()
    window.created_at = window.created_at or now
    window.updated_at = now
    row = _row(window)
    keys = ["model_name", "model_version", "start_at", "end_at"]

    def work(conn: Connection) -> str:
        store.upsert(
            conn,
            MonitoringWindow.__table__,
            [row],
            keys=keys,
            update=[c for c in row if c not in (*keys, "id", "created_at")],
        )
        found = conn.execute(
            select(MonitoringWindow.id).where(
                MonitoringWindow.model_name == window.model_name,
                MonitoringWindow.model_version == window.model_version,
                MonitoringWindow.start_at == window.start,
                MonitoringWindow.end_at == window.end,
            )
        ).scalar_one()
        return str(found)

    window.id = store.transaction(work)
    if window.model_version.isdigit():
        lineage.add_edge(
            store,
            lineage.Node("model_version", f"{window.model_name}/{window.model_version}"),
            "monitored_in",
            lineage.Node("monitoring_window", window.id),
        )
    window._load_profile = load_profile
    return window


def update_window(window: Window) -> None:
    """Store new metrics of a window (after labels arrived)."""
    window.updated_at = now_ms()
    row = _row(window)
    store = get_store()
    values = {k: row[k] for k in ("labelled_rows", "metrics", "updated_at")}
    store.transaction(
        lambda conn: conn.execute(
            update(MonitoringWindow).where(MonitoringWindow.id == window.id).values(**values)
        )
    )


def _row(window: Window) -> dict[str, Any]:
    dataset = window.drift.dataset
    return {
        "id": window.id,
        "model_name": window.model_name,
        "model_version": window.model_version,
        "start_at": window.start,
        "end_at": window.end,
        "num_rows": window.num_rows,
        "labelled_rows": window.labelled_rows,
        "profile_key": window.profile_key,
        "dataset_share": dataset.share,
        "dataset_score": dataset.score,
        "dataset_drifted": dataset.drifted,
        "drift": json.dumps(
            {
                "features": window.drift.to_dict(),
                "outputs": None if window.output_drift is None else window.output_drift.to_dict(),
            },
            default=_plain,
        ),
        "metrics": json.dumps(
            {
                "performance": window.performance,
                "baseline": window.baseline,
                "kpis": window.kpis,
                "latency": window.latency,
                "root_cause": window.root_cause,
                "skipped_labels": window.skipped_labels,
            },
            default=_plain,
        ),
        "quality": json.dumps(window.quality, default=_plain),
        "created_at": window.created_at,
        "updated_at": window.updated_at,
    }


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def list_windows(
    model: str,
    start: int | None = None,
    end: int | None = None,
    version: str | None = None,
    limit: int | None = None,
    newest: bool = False,
) -> list[Window]:
    """Stored windows of ``model`` starting in ``[start, end)``, oldest first."""
    query = select(MonitoringWindow).where(MonitoringWindow.model_name == model)
    if start is not None:
        query = query.where(MonitoringWindow.start_at >= start)
    if end is not None:
        query = query.where(MonitoringWindow.start_at < end)
    if version is not None:
        query = query.where(MonitoringWindow.model_version == str(version))
    order = MonitoringWindow.start_at.desc() if newest else MonitoringWindow.start_at
    query = query.order_by(order, MonitoringWindow.end_at)
    if limit is not None:
        query = query.limit(limit)
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    windows = [_window(row) for row in rows]
    return windows[::-1] if newest else windows


def get_window(window_id: str) -> Window:
    with get_store().read() as conn:
        row = conn.execute(select(MonitoringWindow).where(MonitoringWindow.id == window_id)).first()
    if row is None:
        raise NotFound(
            f"monitoring window {window_id!r} does not exist; `mloop monitor windows MODEL` lists them."
        )
    return _window(row)


def _window(row: Any) -> Window:
    drift = json.loads(row.drift)
    metrics = json.loads(row.metrics)
    window = Window(
        id=row.id,
        model_name=row.model_name,
        model_version=row.model_version,
        start=int(row.start_at),
        end=int(row.end_at),
        num_rows=int(row.num_rows),
        drift=DriftReport.from_dict(drift["features"]),
        output_drift=DriftReport.from_dict(drift["outputs"]) if drift.get("outputs") else None,
        labelled_rows=int(row.labelled_rows),
        skipped_labels=metrics.get("skipped_labels") or {},
        performance=metrics.get("performance") or {},
        baseline=metrics.get("baseline") or {},
        kpis=metrics.get("kpis") or {},
        latency=metrics.get("latency") or {},
        quality=json.loads(row.quality),
        root_cause=metrics.get("root_cause") or {},
        profile_key=row.profile_key,
        created_at=int(row.created_at),
        updated_at=int(row.updated_at),
    )
    window._load_profile = load_profile
    return window


def load_profile(window: Window) -> Profile:
    if window.profile_key is None:
        raise NotFound(f"window {window.id} was stored without its profile (store_profiles=False).")
    return Profile.from_json(get_artifacts().get_bytes(window.profile_key).decode())


def loop_events(model: str, limit: int = 200) -> list[dict[str, Any]]:
    """Retraining decisions of ``model``, oldest first (written by :mod:`mloop.loop`)."""
    query = (
        select(LoopDecision)
        .where(LoopDecision.model_name == model)
        .order_by(LoopDecision.created_at.desc())
        .limit(limit)
    )
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "id": r.id,
            "policy": r.policy,
            "trigger": r.trigger,
            "reason": r.reason,
            "status": r.status,
            "champion_version": r.champion_version,
            "candidate_version": r.candidate_version,
            "window_id": r.window_id,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
        for r in reversed(rows)
    ]
