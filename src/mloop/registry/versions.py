"""Registered models, versions and aliases in the metadata store, with an audit trail."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.core.principal import current_actor
from mloop.registry import remote
from mloop.registry.entities import ModelVersion, RegisteredModel
from mloop.store import audit, get_store, lineage
from mloop.store.db import MetadataStore
from mloop.store.schema.registry import (
    ModelAlias,
    ModelVersionTag,
    RegisteredModelTag,
)
from mloop.store.schema.registry import ModelVersion as VersionRow
from mloop.store.schema.registry import RegisteredModel as ModelRow

_RETRIES = 5


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or "/" in name or "@" in name:
        raise InvalidInput(
            f"model name {name!r} is not valid; use a non-empty name without '/' or '@', e.g. 'delay-model'."
        )
    return name


def _check_alias(alias: Any) -> str:
    if (
        not isinstance(alias, str)
        or not alias.strip()
        or alias.isdigit()
        or "/" in alias
        or "@" in alias
    ):
        raise InvalidInput(
            f"alias {alias!r} is not valid; use a name such as 'champion' (not a number, no '/' or '@')."
        )
    return alias


def create_version(
    name: str,
    source: str,
    flavor: str,
    run_id: str | None,
    signature: dict[str, Any] | None,
    description: str = "",
    tags: dict[str, str] | None = None,
    store: MetadataStore | None = None,
) -> ModelVersion:
    """Register a new version of ``name`` (the model is created when missing)."""
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.create_version(
            server, name, source, flavor, run_id, signature, description, tags
        )
    store = store or get_store()
    _check_name(name)
    actor = current_actor()

    def work(conn: Connection) -> int:
        now = now_ms()
        store.insert_ignore(
            conn,
            ModelRow.__table__,
            [{"name": name, "description": "", "created_at": now, "updated_at": now}],
        )
        latest = conn.execute(
            select(func.max(VersionRow.version)).where(VersionRow.name == name)
        ).scalar()
        version = int(latest or 0) + 1
        conn.execute(
            insert(VersionRow),
            {
                "name": name,
                "version": version,
                "run_id": run_id,
                "source": source,
                "flavor": flavor,
                "signature": json.dumps(signature) if signature else None,
                "description": description,
                "status": "READY",
                "created_by": actor,
                "created_at": now,
                "updated_at": now,
            },
        )
        if tags:
            conn.execute(
                insert(ModelVersionTag),
                [
                    {"name": name, "version": version, "key": k, "value": str(v)}
                    for k, v in tags.items()
                ],
            )
        conn.execute(update(ModelRow).where(ModelRow.name == name).values(updated_at=now))
        audit.record(
            conn,
            actor=actor,
            action="version.create",
            object_kind="registered_model",
            object_id=name,
            to_value=version,
            details={"run_id": run_id, "source": source},
        )
        return version

    version = store.transaction_retrying_conflicts(work, attempts=_RETRIES)
    if run_id:
        lineage.add_edge(
            store,
            lineage.Node("run", run_id),
            "produced",
            lineage.Node("model_version", f"{name}/{version}"),
        )
    return get_version(name, version, store=store)


def _version_entity(conn: Connection, row: Any) -> ModelVersion:
    tags = dict(
        conn.execute(
            select(ModelVersionTag.key, ModelVersionTag.value).where(
                ModelVersionTag.name == row.name, ModelVersionTag.version == row.version
            )
        ).all()
    )
    aliases = tuple(
        conn.execute(
            select(ModelAlias.alias)
            .where(ModelAlias.name == row.name, ModelAlias.version == row.version)
            .order_by(ModelAlias.alias)
        ).scalars()
    )
    return ModelVersion(
        name=row.name,
        version=row.version,
        run_id=row.run_id,
        source=row.source,
        flavor=row.flavor,
        signature=json.loads(row.signature) if row.signature else None,
        description=row.description,
        status=row.status,
        creation_timestamp=row.created_at,
        last_updated_timestamp=row.updated_at,
        user_id=row.created_by,
        tags=tags,
        aliases=aliases,
    )


def _model_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(ModelRow.name)).scalars())


def resolve(conn: Connection, name: str, version_or_alias: int | str) -> int:
    """The version number a number, ``latest`` or an alias points to."""
    if conn.execute(select(ModelRow.name).where(ModelRow.name == name)).first() is None:
        raise NotFound(
            f"registered model {name!r} does not exist."
            + did_you_mean(name, _model_names(conn))
            + " `mloop models list` shows the models."
        )
    text = str(version_or_alias)
    if text.isdigit():
        return int(text)
    if text == "latest":
        latest = conn.execute(
            select(func.max(VersionRow.version)).where(VersionRow.name == name)
        ).scalar()
        if latest is None:
            raise NotFound(f"registered model {name!r} has no versions yet.")
        return int(latest)
    version = conn.execute(
        select(ModelAlias.version).where(ModelAlias.name == name, ModelAlias.alias == text)
    ).scalar()
    if version is None:
        aliases = list(
            conn.execute(select(ModelAlias.alias).where(ModelAlias.name == name)).scalars()
        )
        raise NotFound(
            f"model {name!r} has no alias {text!r}."
            + did_you_mean(text, aliases)
            + (
                f" Its aliases: {', '.join(sorted(aliases))}."
                if aliases
                else " It has no aliases yet."
            )
        )
    return int(version)


def _existing_version(conn: Connection, name: str, version: int) -> Any:
    """The row of version ``version`` of ``name``; NotFound when there is none."""
    row = conn.execute(
        select(VersionRow).where(VersionRow.name == name, VersionRow.version == version)
    ).first()
    if row is None:
        latest = conn.execute(
            select(func.max(VersionRow.version)).where(VersionRow.name == name)
        ).scalar()
        raise NotFound(
            f"model {name!r} has no version {version}"
            + (f"; its latest is {latest}." if latest is not None else "; it has no versions yet.")
            + f" `mloop models versions {name}` lists them."
        )
    return row


_ALIAS_VERSION = select(ModelAlias.version).where(
    ModelAlias.name == bindparam("name"), ModelAlias.alias == bindparam("alias")
)  # built once: a poller asks it every second or so


def version_number(
    name: str, version_or_alias: int | str, store: MetadataStore | None = None
) -> int:
    """The number of the version an alias (or ``latest``, or a number) points to now: one
    light query when the alias exists, for servers that poll it (:func:`get_version` reads
    the whole version, its tags and aliases).

    Raises:
        NotFound: the model does not exist, has no such alias, or has no version yet.
    """
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.get_version(server, name, version_or_alias).version
    store = store or get_store()
    text = str(version_or_alias)
    with store.read() as conn:
        if not text.isdigit() and text != "latest":
            found = conn.execute(_ALIAS_VERSION, {"name": name, "alias": text}).scalar()
            if found is not None:
                return int(found)
        return resolve(conn, name, version_or_alias)  # numbers, latest, and the errors


def get_version(
    name: str, version_or_alias: int | str, store: MetadataStore | None = None
) -> ModelVersion:
    """A version by number, by alias (``champion``) or ``latest``.

    Raises:
        NotFound: the model does not exist (the message suggests the nearest name), or
            has no such version or alias.
    """
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.get_version(server, name, version_or_alias)
    store = store or get_store()
    with store.read() as conn:
        version = resolve(conn, name, version_or_alias)
        row = _existing_version(conn, name, version)
        return _version_entity(conn, row)


def list_versions(
    name: str | None = None, run_id: str | None = None, store: MetadataStore | None = None
) -> list[ModelVersion]:
    """Versions of one model (or of every model), newest first; ``run_id`` keeps those of one run.

    Raises:
        NotFound: ``name`` is given and no model has it.
    """
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.list_versions(server, name, run_id)
    store = store or get_store()
    query = select(VersionRow).order_by(VersionRow.name, VersionRow.version.desc())
    if name is not None:
        query = query.where(VersionRow.name == name)
    if run_id is not None:
        query = query.where(VersionRow.run_id == run_id)
    with store.read() as conn:
        if name is not None:
            resolve(conn, name, "0")
        return [_version_entity(conn, row) for row in conn.execute(query).all()]


def get_model(name: str, store: MetadataStore | None = None) -> RegisteredModel:
    """A registered model with its aliases, tags and latest version.

    Raises:
        NotFound: no model is registered under ``name`` (the message suggests the nearest).
    """
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.get_model(server, name)
    store = store or get_store()
    with store.read() as conn:
        resolve(conn, name, "0")
        return _model_entity(
            conn, conn.execute(select(ModelRow).where(ModelRow.name == name)).one()
        )


def _model_entity(conn: Connection, row: Any) -> RegisteredModel:
    aliases = dict(
        conn.execute(
            select(ModelAlias.alias, ModelAlias.version).where(ModelAlias.name == row.name)
        ).all()
    )
    tags = dict(
        conn.execute(
            select(RegisteredModelTag.key, RegisteredModelTag.value).where(
                RegisteredModelTag.name == row.name
            )
        ).all()
    )
    latest = conn.execute(
        select(func.max(VersionRow.version)).where(VersionRow.name == row.name)
    ).scalar()
    return RegisteredModel(
        name=row.name,
        description=row.description,
        creation_timestamp=row.created_at,
        last_updated_timestamp=row.updated_at,
        aliases=aliases,
        tags=tags,
        latest_version=latest,
    )


def list_models(store: MetadataStore | None = None) -> list[RegisteredModel]:
    """Every registered model, by name."""
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.list_models(server)
    store = store or get_store()
    with store.read() as conn:
        rows = conn.execute(select(ModelRow).order_by(ModelRow.name)).all()
        return [_model_entity(conn, row) for row in rows]


def set_alias(
    name: str,
    alias: str,
    version: int | str,
    reason: str = "",
    actor: str | None = None,
    action: str = "alias.set",
    details: dict[str, Any] | None = None,
    store: MetadataStore | None = None,
) -> ModelVersion:
    """Point ``alias`` at ``version`` (moving it if it pointed elsewhere), with an audit entry.

    Args:
        name: the registered model.
        alias: the alias (``champion``): not a number, no ``/`` or ``@``.
        version: a number, ``latest`` or another alias.
        reason: why, kept in the audit log.
        actor: who, for the audit log (default: the acting principal).
        action: the audit action recorded.
        details: extra evidence kept with the audit entry.

    Raises:
        InvalidInput: ``alias`` is not a valid alias name.
        NotFound: the model, the version or the alias given as ``version`` does not exist.
    """
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.set_alias(server, name, alias, version, reason)
    store = store or get_store()
    _check_alias(alias)
    actor = actor or current_actor()

    def work(conn: Connection) -> int:
        target = resolve(conn, name, version)
        _existing_version(conn, name, target)
        previous = conn.execute(
            select(ModelAlias.version).where(ModelAlias.name == name, ModelAlias.alias == alias)
        ).scalar()
        store.upsert(
            conn,
            ModelAlias.__table__,
            [{"name": name, "alias": alias, "version": target, "updated_at": now_ms()}],
            keys=["name", "alias"],
            update=["version", "updated_at"],
        )
        audit.record(
            conn,
            actor=actor,
            action=action,
            object_kind="registered_model",
            object_id=name,
            from_value=None if previous is None else f"{alias}={previous}",
            to_value=f"{alias}={target}",
            reason=reason,
            details=details,
        )
        return target

    target = store.transaction(work)
    return get_version(name, target, store=store)


def delete_alias(
    name: str, alias: str, reason: str = "", store: MetadataStore | None = None
) -> None:
    """Remove an alias of a model (its version stays); the audit log records who and why.

    Raises:
        InvalidInput: ``alias`` is not a valid alias name.
        NotFound: the model does not exist or has no such alias.
    """
    server = remote.remote() if store is None else None
    if server is not None:
        remote.delete_alias(server, name, alias)
        return
    store = store or get_store()
    actor = current_actor()

    def work(conn: Connection) -> None:
        previous = resolve(conn, name, _check_alias(alias))
        conn.execute(delete(ModelAlias).where(ModelAlias.name == name, ModelAlias.alias == alias))
        audit.record(
            conn,
            actor=actor,
            action="alias.delete",
            object_kind="registered_model",
            object_id=name,
            from_value=f"{alias}={previous}",
            to_value=None,
            reason=reason,
        )

    store.transaction(work)


def set_version_tag(
    name: str, version: int | str, key: str, value: Any, store: MetadataStore | None = None
) -> None:
    """Set a tag on a model version (a number, ``latest`` or an alias); stored as ``str(value)``.

    Raises:
        NotFound: the model does not exist, or has no such version or alias.
    """
    server = remote.remote() if store is None else None
    if server is not None:
        remote.set_version_tag(server, name, version, key, value)
        return
    store = store or get_store()

    def work(conn: Connection) -> None:
        target = resolve(conn, name, version)
        _existing_version(conn, name, target)
        store.upsert(
            conn,
            ModelVersionTag.__table__,
            [{"name": name, "version": target, "key": key, "value": str(value)}],
            keys=["name", "version", "key"],
            update=["value"],
        )

    store.transaction(work)


def update_version(
    name: str,
    version: int | str,
    *,
    description: str | None = None,
    status: str | None = None,
    reason: str = "",
    store: MetadataStore | None = None,
) -> ModelVersion:
    """Change a version's description or status (e.g. ``ARCHIVED``), with an audit entry.

    Raises:
        NotFound: the model does not exist, or has no such version, or ``version`` is an
            alias or ``latest`` that points nowhere.
    """
    server = remote.remote() if store is None else None
    if server is not None:
        return remote.update_version(server, name, version, description, status, reason)
    store = store or get_store()
    actor = current_actor()

    def work(conn: Connection) -> int:
        target = resolve(conn, name, version)
        row = _existing_version(conn, name, target)
        values: dict[str, Any] = {"updated_at": now_ms()}
        if description is not None:
            values["description"] = description
        if status is not None:
            values["status"] = status
            audit.record(
                conn,
                actor=actor,
                action="version.status",
                object_kind="model_version",
                object_id=f"{name}/{target}",
                from_value=row.status,
                to_value=status,
                reason=reason,
            )
        conn.execute(
            update(VersionRow)
            .where(VersionRow.name == name, VersionRow.version == target)
            .values(**values)
        )
        return target

    return get_version(name, store.transaction(work), store=store)
