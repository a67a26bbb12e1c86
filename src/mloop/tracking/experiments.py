"""Experiments: named groups of runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from mloop.core.clock import now_ms
from mloop.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound, did_you_mean
from mloop.store.db import MetadataStore
from mloop.store.schema.tracking import Experiment as ExperimentRow
from mloop.store.schema.tracking import ExperimentTag
from mloop.store.schema.tracking import Run as RunRow
from mloop.tracking.entities import Experiment


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(
            f"experiment name {name!r} is empty; give a name such as 'flight-delays'."
        )
    if len(name) > 256:
        raise InvalidInput(f"experiment name is {len(name)} characters long; the limit is 256.")
    return name


def _to_entity(conn: Connection, row: Any) -> Experiment:
    tags = dict(
        conn.execute(
            select(ExperimentTag.key, ExperimentTag.value).where(
                ExperimentTag.experiment_id == row.experiment_id
            )
        ).all()
    )
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        tags=tags,
        creation_time=row.created_at,
        last_update_time=row.updated_at,
    )


def create(
    store: MetadataStore,
    name: str,
    artifact_location: str | None = None,
    tags: dict[str, str] | None = None,
) -> Experiment:
    """Create an experiment; its name must be new."""
    _check_name(name)

    def work(conn: Connection) -> int:
        now = now_ms()
        result = conn.execute(
            insert(ExperimentRow).values(
                name=name,
                artifact_location=artifact_location or "",
                lifecycle_stage="active",
                created_at=now,
                updated_at=now,
            )
        )
        experiment_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        if not artifact_location:
            conn.execute(
                update(ExperimentRow)
                .where(ExperimentRow.experiment_id == experiment_id)
                .values(artifact_location=f"experiments/{experiment_id}")
            )
        if tags:
            conn.execute(
                insert(ExperimentTag),
                [
                    {"experiment_id": experiment_id, "key": k, "value": str(v)}
                    for k, v in tags.items()
                ],
            )
        return experiment_id

    try:
        experiment_id = store.transaction(work)
    except DBIntegrityError:
        raise AlreadyExists(
            f"experiment {name!r} already exists; use set_experiment({name!r}) to use it."
        ) from None
    return get(store, str(experiment_id))


def get(store: MetadataStore, experiment_id: str | int) -> Experiment:
    try:
        key = int(experiment_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"experiment id {experiment_id!r} is not a number.") from None
    if not 0 <= key < 2**63:  # beyond any stored id (and the database's integer)
        raise NotFound(f"experiment id {experiment_id} does not exist.")
    with store.read() as conn:
        row = conn.execute(select(ExperimentRow).where(ExperimentRow.experiment_id == key)).first()
        if row is None:
            raise NotFound(
                f"experiment id {experiment_id} does not exist; `mloop experiments list` shows them."
            )
        return _to_entity(conn, row)


def get_by_name(store: MetadataStore, name: str) -> Experiment | None:
    with store.read() as conn:
        row = conn.execute(select(ExperimentRow).where(ExperimentRow.name == name)).first()
        return None if row is None else _to_entity(conn, row)


def check_active(experiment: Experiment) -> Experiment:
    """``experiment`` when it is active; a deleted one cannot take new runs."""
    if experiment.lifecycle_stage != "active":
        raise Conflict(
            f"experiment {experiment.name!r} (id {experiment.experiment_id}) is deleted; "
            f"restore it with restore_experiment({experiment.experiment_id!r}) or use another name."
        )
    return experiment


def get_or_create(store: MetadataStore, name: str) -> Experiment:
    """The active experiment called ``name``, created when missing (safe under concurrency)."""
    found = get_by_name(store, name)
    if found is not None:
        return check_active(found)
    try:
        return create(store, name)
    except AlreadyExists:  # another process created it meanwhile
        found = get_by_name(store, name)
        assert found is not None
        return found


def search(store: MetadataStore) -> list[Experiment]:
    with store.read() as conn:
        rows = conn.execute(select(ExperimentRow).order_by(ExperimentRow.experiment_id)).all()
        return [_to_entity(conn, row) for row in rows]


def ids_for_names(store: MetadataStore, names: list[str]) -> list[int]:
    """Experiment ids of ``names``; an unknown name is an error that suggests the nearest."""
    with store.read() as conn:
        known = dict(conn.execute(select(ExperimentRow.name, ExperimentRow.experiment_id)).all())
    ids = []
    for name in names:
        if name not in known:
            raise NotFound(f"experiment {name!r} does not exist." + did_you_mean(name, known))
        ids.append(int(known[name]))
    return ids


def set_lifecycle(store: MetadataStore, experiment_id: str, stage: str) -> None:
    """Delete (``"deleted"``) or restore (``"active"``) an experiment with its runs, as MLflow."""
    key = int(get(store, experiment_id).experiment_id)

    def work(conn: Connection) -> None:
        conn.execute(
            update(ExperimentRow)
            .where(ExperimentRow.experiment_id == key)
            .values(lifecycle_stage=stage, updated_at=now_ms())
        )
        conn.execute(
            update(RunRow).where(RunRow.experiment_id == key).values(lifecycle_stage=stage)
        )

    store.transaction(work)


def set_tags(store: MetadataStore, experiment_id: str, tags: dict[str, str]) -> None:
    """Set (or replace) tags of an experiment."""
    key = int(get(store, experiment_id).experiment_id)
    rows = [{"experiment_id": key, "key": k, "value": str(v)} for k, v in tags.items()]
    if not rows:
        return

    def work(conn: Connection) -> None:
        conn.execute(
            delete(ExperimentTag).where(
                ExperimentTag.experiment_id == key, ExperimentTag.key.in_(list(tags))
            )
        )
        conn.execute(insert(ExperimentTag), rows)

    store.transaction(work)


def rename(store: MetadataStore, experiment_id: str, new_name: str) -> None:
    """Give an experiment a new name, which must be free."""
    _check_name(new_name)
    key = int(get(store, experiment_id).experiment_id)

    def work(conn: Connection) -> None:
        conn.execute(
            update(ExperimentRow)
            .where(ExperimentRow.experiment_id == key)
            .values(name=new_name, updated_at=now_ms())
        )

    try:
        store.transaction(work)
    except DBIntegrityError:
        raise AlreadyExists(
            f"experiment {new_name!r} already exists; choose another name for experiment "
            f"{experiment_id}."
        ) from None


def delete_tag(store: MetadataStore, experiment_id: str, key: str) -> None:
    """Remove a tag of an experiment; a tag that is not there is an error, as in MLflow."""
    found = get(store, experiment_id)
    if key not in found.tags:
        raise NotFound(f"experiment {found.name!r} has no tag {key!r}; nothing to delete.")
    store.transaction(
        lambda conn: conn.execute(
            delete(ExperimentTag).where(
                ExperimentTag.experiment_id == int(found.experiment_id), ExperimentTag.key == key
            )
        )
    )
