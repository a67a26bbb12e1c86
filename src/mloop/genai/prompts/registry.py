"""The prompt registry: immutable versions and aliases, with an audit trail.

A version never changes once registered; aliases (``production``, ``staging``) point at
versions and move with an audit entry naming the actor. An alias can be protected
(``gated_aliases``): it then moves only through promotion with a gate
(:mod:`.promote`), or forced with a reason, as models do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import Conflict, InvalidInput, NotFound, did_you_mean
from mloop.core.principal import current_actor
from mloop.genai.prompts import template as _template
from mloop.genai.prompts.entities import PromptInfo, PromptVersion
from mloop.genai.prompts.refs import check_alias, check_mapping, check_name, parse_ref
from mloop.store import audit, get_store
from mloop.store.schema.genai import Prompt as PromptRow
from mloop.store.schema.genai import PromptAlias
from mloop.store.schema.genai import PromptVersion as VersionRow

__all__ = [
    "delete_prompt_alias",
    "gated_aliases",
    "get_version",
    "list_prompt_versions",
    "list_prompts",
    "load_prompt",
    "move_alias",
    "register_prompt",
    "set_prompt_alias",
]

_KIND = "prompt"


def register_prompt(
    name: str,
    template: str | Sequence[Mapping[str, str]],
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str = "",
    gated_aliases: Sequence[str] | None = None,
) -> PromptVersion:
    """Register a new version of prompt ``name`` (created on first use).

    ``template`` is a text or a list of chat messages with ``{{ variable }}`` slots;
    ``params`` are model parameters (``temperature``, ``model``...). Registering the same
    template and params as the latest version returns that version instead of a copy.
    ``gated_aliases`` protects aliases of the prompt (see :func:`promote_prompt`).

    >>> qa = register_prompt("qa", "Answer briefly: {{ question }}", params={"temperature": 0})
    >>> qa.render(question="2+2?")
    'Answer briefly: 2+2?'
    """
    check_name(name)
    checked = _template.check_template(template)
    params_ = check_mapping("params", params)
    tags_ = {str(k): str(v) for k, v in check_mapping("tags", tags).items()}
    gated = [check_alias(a) for a in gated_aliases] if gated_aliases is not None else None
    variables = _template.template_variables(checked)
    template_json = json.dumps(checked, sort_keys=True)
    params_json = json.dumps(params_, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{template_json}\n{params_json}".encode()).hexdigest()
    actor = current_actor()
    store = get_store()

    def work(conn: Connection) -> int:
        at = now_ms()
        prompt = conn.execute(select(PromptRow.name).where(PromptRow.name == name)).scalar()
        if prompt is None:
            conn.execute(
                insert(PromptRow),
                {
                    "name": name,
                    "description": description,
                    "gated_aliases": json.dumps(gated or []),
                    "created_at": at,
                    "updated_at": at,
                },
            )
        elif gated is not None:
            conn.execute(
                update(PromptRow)
                .where(PromptRow.name == name)
                .values(gated_aliases=json.dumps(gated), updated_at=at)
            )
        latest = conn.execute(
            select(VersionRow.version, VersionRow.digest)
            .where(VersionRow.name == name)
            .order_by(VersionRow.version.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.digest == digest:
            return int(latest.version)
        version = 1 if latest is None else int(latest.version) + 1
        conn.execute(
            insert(VersionRow),
            {
                "name": name,
                "version": version,
                "template": template_json,
                "variables": json.dumps(variables),
                "params": params_json,
                "tags": json.dumps(tags_, sort_keys=True),
                "description": description,
                "digest": digest,
                "created_by": actor,
                "created_at": at,
            },
        )
        conn.execute(update(PromptRow).where(PromptRow.name == name).values(updated_at=at))
        audit.record(
            conn,
            actor=actor,
            action="prompt.register",
            object_kind=_KIND,
            object_id=name,
            to_value=version,
            details={"digest": digest, "variables": variables},
        )
        return version

    version = store.transaction_retrying_conflicts(work)
    return get_version(name, version)


def load_prompt(ref: str, version: int | str | None = None) -> PromptVersion:
    """Load a prompt version: ``prompts:/name@alias``, ``prompts:/name/3``, ``name@alias``,
    ``name/3`` or ``name`` (the latest version); or ``name`` with ``version=``.

    Raises:
        NotFound: the prompt, version or alias does not exist (the message lists what does).
    """
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput(f"prompt reference {ref!r} is empty; use 'prompts:/name@alias'.")
    name, selector = parse_ref(ref)
    if version is not None:
        if selector is not None:
            raise InvalidInput(f"{ref!r} already names a version; drop version={version!r}.")
        selector = str(version)
    return get_version(name, selector)


def set_prompt_alias(name: str, alias: str, version: int | str, reason: str = "") -> PromptVersion:
    """Point ``alias`` at ``version`` of prompt ``name`` (audited).

    Raises:
        Conflict: the alias is gated; use :func:`promote_prompt`.
    """
    check_alias(alias)
    if alias in gated_aliases(name):
        raise Conflict(
            f"alias {alias!r} of prompt {name!r} is gated; move it with "
            f"promote_prompt({name!r}, {version!r}, alias={alias!r}, gate=...) "
            "(or force=True with a reason)."
        )
    return move_alias(name, alias, version, reason, "prompt.alias.set", None)


def delete_prompt_alias(name: str, alias: str, reason: str = "") -> None:
    """Remove ``alias`` from prompt ``name`` (audited)."""
    store = get_store()

    def work(conn: Connection) -> None:
        previous = conn.execute(
            select(PromptAlias.version).where(PromptAlias.name == name, PromptAlias.alias == alias)
        ).scalar()
        if previous is None:
            raise NotFound(f"prompt {name!r} has no alias {alias!r}.")
        conn.execute(
            delete(PromptAlias).where(PromptAlias.name == name, PromptAlias.alias == alias)
        )
        audit.record(
            conn,
            actor=current_actor(),
            action="prompt.alias.delete",
            object_kind=_KIND,
            object_id=name,
            from_value=f"{alias}={previous}",
            reason=reason,
        )

    store.transaction(work)


def list_prompts() -> list[PromptInfo]:
    """Every registered prompt with its latest version and aliases."""
    with get_store().read() as conn:
        prompts = conn.execute(select(PromptRow).order_by(PromptRow.name)).all()
        latest = dict(
            conn.execute(
                select(VersionRow.name, func.max(VersionRow.version)).group_by(VersionRow.name)
            ).all()
        )
        aliases: dict[str, dict[str, int]] = {}
        for row in conn.execute(select(PromptAlias)).all():
            aliases.setdefault(row.name, {})[row.alias] = row.version
    return [
        PromptInfo(
            name=p.name,
            latest_version=int(latest.get(p.name, 0)),
            aliases=aliases.get(p.name, {}),
            gated_aliases=json.loads(p.gated_aliases),
            description=p.description,
            updated_at=p.updated_at,
        )
        for p in prompts
    ]


def list_prompt_versions(name: str) -> list[PromptVersion]:
    """The versions of prompt ``name``, newest first."""
    with get_store().read() as conn:
        _require_prompt(conn, name)
        rows = conn.execute(
            select(VersionRow).where(VersionRow.name == name).order_by(VersionRow.version.desc())
        ).all()
        aliases = _aliases(conn, name)
        return [_entity(row, aliases) for row in rows]


# -- used by promotion and below ------------------------------------------------------


def move_alias(
    name: str,
    alias: str,
    version: int | str,
    reason: str,
    action: str,
    details: dict[str, Any] | None,
) -> PromptVersion:
    store = get_store()

    def work(conn: Connection) -> int:
        target = _resolve(conn, name, str(version))
        previous = conn.execute(
            select(PromptAlias.version).where(PromptAlias.name == name, PromptAlias.alias == alias)
        ).scalar()
        store.upsert(
            conn,
            PromptAlias.__table__,
            [{"name": name, "alias": alias, "version": target, "updated_at": now_ms()}],
            keys=["name", "alias"],
            update=["version", "updated_at"],
        )
        audit.record(
            conn,
            actor=current_actor(),
            action=action,
            object_kind=_KIND,
            object_id=name,
            from_value=None if previous is None else f"{alias}={previous}",
            to_value=f"{alias}={target}",
            reason=reason,
            details=details,
        )
        return target

    return get_version(name, str(store.transaction(work)))


def get_version(name: str, selector: str | int | None) -> PromptVersion:
    with get_store().read() as conn:
        version = _resolve(conn, name, None if selector is None else str(selector))
        row = conn.execute(
            select(VersionRow).where(VersionRow.name == name, VersionRow.version == version)
        ).one()
        return _entity(row, _aliases(conn, name))


def _resolve(conn: Connection, name: str, selector: str | None) -> int:
    """The version number that ``selector`` (a number, an alias, None for latest) names."""
    _require_prompt(conn, name)
    if selector is None or selector == "latest":
        latest = conn.execute(
            select(func.max(VersionRow.version)).where(VersionRow.name == name)
        ).scalar()
        if latest is None:
            raise NotFound(f"prompt {name!r} has no versions yet.")
        return int(latest)
    if selector.isdigit():
        found = conn.execute(
            select(VersionRow.version).where(
                VersionRow.name == name, VersionRow.version == int(selector)
            )
        ).scalar()
        if found is None:
            raise NotFound(
                f"prompt {name!r} has no version {selector}; `mloop prompts show {name}` lists them."
            )
        return int(found)
    aliases = _aliases_by_name(conn, name)
    if selector not in aliases:
        known = ", ".join(sorted(aliases)) or "none"
        raise NotFound(
            f"prompt {name!r} has no alias {selector!r}.{did_you_mean(selector, aliases)} "
            f"Its aliases: {known}."
        )
    return aliases[selector]


def _require_prompt(conn: Connection, name: str) -> None:
    if conn.execute(select(PromptRow.name).where(PromptRow.name == name)).first() is None:
        names = list(conn.execute(select(PromptRow.name)).scalars())
        raise NotFound(
            f"prompt {name!r} is not registered.{did_you_mean(name, names)} "
            "`mloop prompts list` shows the prompts."
        )


def _aliases_by_name(conn: Connection, name: str) -> dict[str, int]:
    rows = conn.execute(select(PromptAlias).where(PromptAlias.name == name)).all()
    return {row.alias: row.version for row in rows}


def _aliases(conn: Connection, name: str) -> dict[int, tuple[str, ...]]:
    by_version: dict[int, list[str]] = {}
    for alias, version in sorted(_aliases_by_name(conn, name).items()):
        by_version.setdefault(version, []).append(alias)
    return {version: tuple(names) for version, names in by_version.items()}


def gated_aliases(name: str) -> list[str]:
    with get_store().read() as conn:
        _require_prompt(conn, name)
        value = conn.execute(
            select(PromptRow.gated_aliases).where(PromptRow.name == name)
        ).scalar_one()
    return list(json.loads(value))


def _entity(row: Any, aliases: Mapping[int, tuple[str, ...]]) -> PromptVersion:
    return PromptVersion(
        name=row.name,
        version=row.version,
        template=json.loads(row.template),
        variables=json.loads(row.variables),
        params=json.loads(row.params),
        tags=json.loads(row.tags),
        description=row.description,
        digest=row.digest,
        created_by=row.created_by,
        created_at=row.created_at,
        aliases=aliases.get(row.version, ()),
    )
