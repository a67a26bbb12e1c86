"""Users and service accounts, their passwords (argon2) and their role per workspace."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select

from mloop.core.clock import now_ms
from mloop.core.errors import AlreadyExists, InvalidInput, NotFound, did_you_mean
from mloop.store.schema.auth import AuthMember, AuthUser

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from mloop.store.db import MetadataStore

ROLES = ("viewer", "editor", "admin")
KINDS = ("user", "service")
DEFAULT_WORKSPACE = "default"
_NAME = re.compile(r"^[A-Za-z0-9][\w.@\-]{0,127}$")


@dataclass(frozen=True)
class Account:
    name: str
    kind: str
    is_admin: bool
    created_at: int
    disabled: bool


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_name(name: str, what: str = "user name") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"{what} {name!r} is not valid; use 1-128 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {list(ROLES)}.{did_you_mean(role, ROLES)}")
    return role


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < 8:
        raise InvalidInput("password must have at least 8 characters.")
    return password


def _account(row: Any) -> Account:
    return Account(
        row.name, row.kind, bool(row.is_admin), row.created_at, row.disabled_at is not None
    )


def create(
    store: MetadataStore,
    name: str,
    password: str | None = None,
    admin: bool = False,
    kind: str = "user",
    workspace: str = DEFAULT_WORKSPACE,
    role: str | None = None,
) -> Account:
    """Create a user (with a password) or a service account (tokens only).

    The account becomes a member of ``workspace`` with ``role`` (admin for admins, editor
    otherwise).
    """
    check_name(name)
    if kind not in KINDS:
        raise InvalidInput(f"account kind {kind!r} is not one of {list(KINDS)}.")
    hashed = _hasher().hash(check_password(password)) if password is not None else None
    role = check_role(role or ("admin" if admin else "editor"))
    check_name(workspace, "workspace")
    with store.write() as conn:
        if conn.execute(select(AuthUser.name).where(AuthUser.name == name)).first():
            raise AlreadyExists(
                f"user {name!r} already exists; `mloop users list` shows the users."
            )
        row = {
            "name": name,
            "kind": kind,
            "password_hash": hashed,
            "is_admin": admin,
            "created_at": now_ms(),
            "disabled_at": None,
        }
        conn.execute(insert(AuthUser), row)
        conn.execute(insert(AuthMember), {"workspace": workspace, "user": name, "role": role})
    return Account(name, kind, admin, int(row["created_at"] or 0), False)


def get(store: MetadataStore, name: str) -> Account:
    with store.read() as conn:
        row = conn.execute(select(AuthUser.__table__).where(AuthUser.name == name)).first()
        if row is None:
            known = conn.execute(select(AuthUser.name)).scalars().all()
            raise NotFound(f"user {name!r} does not exist.{did_you_mean(name, known)}")
        return _account(row)


def list_accounts(store: MetadataStore) -> list[Account]:
    with store.read() as conn:
        rows = conn.execute(select(AuthUser.__table__).order_by(AuthUser.name)).all()
        return [_account(row) for row in rows]


def any_account(store: MetadataStore) -> bool:
    """Whether authentication is configured (at least one user or service account)."""
    with store.read() as conn:
        return bool(conn.execute(select(func.count()).select_from(AuthUser)).scalar())


def verify_password(store: MetadataStore, name: str, password: str) -> bool:
    """Whether ``password`` is ``name``'s (False for unknown, disabled or service accounts)."""
    from argon2.exceptions import VerificationError

    with store.read() as conn:
        row = conn.execute(
            select(AuthUser.password_hash, AuthUser.disabled_at).where(AuthUser.name == name)
        ).first()
    if row is None or row.password_hash is None or row.disabled_at is not None:
        _hasher().hash("timing-equaliser")  # unknown users cost as much as known ones
        return False
    try:
        return bool(_hasher().verify(row.password_hash, password))
    except VerificationError:
        return False


def set_role(store: MetadataStore, workspace: str, name: str, role: str | None) -> None:
    """Give ``name`` a role in ``workspace`` (None removes the membership)."""
    check_name(workspace, "workspace")
    get(store, name)
    with store.write() as conn:
        conn.execute(
            delete(AuthMember).where(AuthMember.workspace == workspace, AuthMember.user == name)
        )
        if role is not None:
            conn.execute(
                insert(AuthMember),
                {"workspace": workspace, "user": name, "role": check_role(role)},
            )


def role_in(store: MetadataStore, name: str, workspace: str) -> str | None:
    """The role of ``name`` in ``workspace`` (admins are admin everywhere), or None."""
    with store.read() as conn:
        admin = conn.execute(select(AuthUser.is_admin).where(AuthUser.name == name)).scalar()
        if admin:
            return "admin"
        return conn.execute(
            select(AuthMember.role).where(
                AuthMember.workspace == workspace, AuthMember.user == name
            )
        ).scalar()
