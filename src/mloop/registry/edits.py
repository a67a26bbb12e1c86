"""Registry changes beyond registering and aliasing: creating an empty model, descriptions,
model tags, and deleting tags, versions and models, each with an audit entry where it
changes what can be served.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import AlreadyExists, NotFound
from mloop.core.principal import current_actor
from mloop.registry.entities import RegisteredModel
from mloop.registry.versions import _check_name, get_model, resolve
from mloop.store import audit, get_store
from mloop.store.db import MetadataStore
from mloop.store.schema.registry import (
    ModelAlias,
    ModelVersionTag,
    RegisteredModelTag,
)
from mloop.store.schema.registry import ModelVersion as VersionRow
from mloop.store.schema.registry import RegisteredModel as ModelRow


def create_model(
    name: str,
    description: str = "",
    tags: dict[str, str] | None = None,
    store: MetadataStore | None = None,
) -> RegisteredModel:
    """Create a registered model with no versions yet; its name must be new."""
    store = store or get_store()
    _check_name(name)

    def work(conn: Connection) -> None:
        if conn.execute(select(ModelRow.name).where(ModelRow.name == name)).first():
            raise AlreadyExists(
                f"registered model {name!r} already exists; register a new version of it instead."
            )
        now = now_ms()
        conn.execute(
            insert(ModelRow).values(
                name=name, description=description, created_at=now, updated_at=now
            )
        )
        if tags:
            conn.execute(
                insert(RegisteredModelTag),
                [{"name": name, "key": k, "value": str(v)} for k, v in tags.items()],
            )

    store.transaction(work)
    return get_model(name, store=store)


def update_model(
    name: str, description: str, store: MetadataStore | None = None
) -> RegisteredModel:
    """Change a registered model's description."""
    store = store or get_store()

    def work(conn: Connection) -> None:
        resolve(conn, name, "0")
        conn.execute(
            update(ModelRow)
            .where(ModelRow.name == name)
            .values(description=description, updated_at=now_ms())
        )

    store.transaction(work)
    return get_model(name, store=store)


def set_model_tag(name: str, key: str, value: str, store: MetadataStore | None = None) -> None:
    store = store or get_store()

    def work(conn: Connection) -> None:
        resolve(conn, name, "0")
        store.upsert(
            conn,
            RegisteredModelTag.__table__,
            [{"name": name, "key": key, "value": str(value)}],
            keys=["name", "key"],
            update=["value"],
        )

    store.transaction(work)


def delete_model_tag(name: str, key: str, store: MetadataStore | None = None) -> None:
    store = store or get_store()

    def work(conn: Connection) -> None:
        resolve(conn, name, "0")
        result = conn.execute(
            delete(RegisteredModelTag).where(
                RegisteredModelTag.name == name, RegisteredModelTag.key == key
            )
        )
        if result.rowcount == 0:
            raise NotFound(f"registered model {name!r} has no tag {key!r}; nothing to delete.")

    store.transaction(work)


def delete_version_tag(
    name: str, version: int | str, key: str, store: MetadataStore | None = None
) -> None:
    store = store or get_store()

    def work(conn: Connection) -> None:
        target = resolve(conn, name, version)
        result = conn.execute(
            delete(ModelVersionTag).where(
                ModelVersionTag.name == name,
                ModelVersionTag.version == target,
                ModelVersionTag.key == key,
            )
        )
        if result.rowcount == 0:
            raise NotFound(f"version {target} of {name!r} has no tag {key!r}; nothing to delete.")

    store.transaction(work)


def delete_version(name: str, version: int | str, store: MetadataStore | None = None) -> None:
    """Delete a version with its tags and the aliases pointing at it (files stay in the run)."""
    store = store or get_store()
    actor = current_actor()

    def work(conn: Connection) -> None:
        target = resolve(conn, name, version)
        where = (VersionRow.name == name, VersionRow.version == target)
        if conn.execute(select(VersionRow.version).where(*where)).first() is None:
            raise NotFound(f"model {name!r} has no version {target}.")
        aliases = list(
            conn.execute(
                select(ModelAlias.alias).where(
                    ModelAlias.name == name, ModelAlias.version == target
                )
            ).scalars()
        )
        conn.execute(
            delete(ModelAlias).where(ModelAlias.name == name, ModelAlias.version == target)
        )
        conn.execute(
            delete(ModelVersionTag).where(
                ModelVersionTag.name == name, ModelVersionTag.version == target
            )
        )
        conn.execute(delete(VersionRow).where(*where))
        audit.record(
            conn,
            actor=actor,
            action="version.delete",
            object_kind="model_version",
            object_id=f"{name}/{target}",
            from_value=",".join(aliases) or None,
            to_value=None,
        )

    store.transaction(work)


def delete_model(name: str, store: MetadataStore | None = None) -> None:
    """Delete a registered model, its versions, tags and aliases (files stay in the runs)."""
    store = store or get_store()
    actor = current_actor()

    def work(conn: Connection) -> None:
        resolve(conn, name, "0")
        versions = list(
            conn.execute(select(VersionRow.version).where(VersionRow.name == name)).scalars()
        )
        conn.execute(delete(ModelAlias).where(ModelAlias.name == name))
        conn.execute(delete(ModelVersionTag).where(ModelVersionTag.name == name))
        conn.execute(delete(VersionRow).where(VersionRow.name == name))
        conn.execute(delete(RegisteredModelTag).where(RegisteredModelTag.name == name))
        conn.execute(delete(ModelRow).where(ModelRow.name == name))
        audit.record(
            conn,
            actor=actor,
            action="model.delete",
            object_kind="registered_model",
            object_id=name,
            from_value=f"{len(versions)} version(s)",
            to_value=None,
        )

    store.transaction(work)
