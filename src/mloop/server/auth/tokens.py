"""API tokens: random secrets shown once, stored as their SHA-256, scoped, expiring, revocable.

A token is ``mlp_`` followed by 43 URL-safe characters (256 random bits), so a fast hash
is enough to store it (there is nothing to brute-force); passwords, which people choose,
use argon2 instead (:mod:`.accounts`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.server.auth import accounts
from mloop.server.auth.errors import Unauthenticated
from mloop.store.schema.auth import AuthToken, AuthUser

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore

SCOPES = ("read", "write", "admin", "feedback", "gateway")
DEFAULT_SCOPES = ("read", "write")
PREFIX = "mlp_"
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without its secret."""

    id: int
    prefix: str
    user: str
    scopes: frozenset[str]
    description: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None


@dataclass(frozen=True)
class Authenticated:
    """What a valid token says about its bearer."""

    user: str
    kind: str
    is_admin: bool
    scopes: frozenset[str]
    token_id: int


def check_scopes(scopes: Any) -> frozenset[str]:
    chosen = frozenset(scopes)
    for scope in chosen:
        if scope not in SCOPES:
            raise InvalidInput(
                f"token scope {scope!r} is not one of {list(SCOPES)}.{did_you_mean(scope, SCOPES)}"
            )
    if not chosen:
        raise InvalidInput(f"a token needs at least one scope of {list(SCOPES)}.")
    return chosen


def parse_duration(text: str) -> int:
    """Milliseconds of a duration such as ``30m``, ``12h``, ``90d`` or ``2w``."""
    match = _DURATION.match(text.strip())
    if not match:
        raise InvalidInput(f"expires {text!r} is not a duration; use e.g. 30m, 12h, 90d or 2w.")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    store: MetadataStore,
    user: str,
    scopes: Any = DEFAULT_SCOPES,
    expires_in_ms: int | None = None,
    description: str = "",
) -> tuple[str, TokenInfo]:
    """A new token for ``user``: its secret (shown once, never stored) and its record."""
    chosen = check_scopes(scopes)
    accounts.get(store, user)
    secret = PREFIX + secrets.token_urlsafe(32)
    created = now_ms()
    row = {
        "token_hash": digest(secret),
        "prefix": secret[: len(PREFIX) + 6],
        "user": user,
        "scopes": " ".join(sorted(chosen)),
        "description": description,
        "created_at": created,
        "expires_at": None if expires_in_ms is None else created + expires_in_ms,
        "revoked_at": None,
    }
    with store.write() as conn:
        token_id = conn.execute(insert(AuthToken).returning(AuthToken.id), row).scalar()
    info = TokenInfo(
        int(token_id or 0),
        row["prefix"],  # type: ignore[arg-type]
        user,
        chosen,
        description,
        created,
        row["expires_at"],  # type: ignore[arg-type]
        None,
    )
    return secret, info


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.prefix,
        row.user,
        frozenset(row.scopes.split()),
        row.description,
        row.created_at,
        row.expires_at,
        row.revoked_at,
    )


def list_tokens(store: MetadataStore, user: str | None = None) -> list[TokenInfo]:
    query = select(AuthToken.__table__).order_by(AuthToken.id)
    if user is not None:
        query = query.where(AuthToken.user == user)
    with store.read() as conn:
        return [_info(row) for row in conn.execute(query)]


def revoke(store: MetadataStore, token_id: int, user: str | None = None) -> None:
    """Revoke a token (effective for the next request: tokens are checked on every call)."""
    condition = AuthToken.id == token_id
    if user is not None:
        condition = condition & (AuthToken.user == user)
    with store.write() as conn:
        done = conn.execute(
            update(AuthToken)
            .where(condition, AuthToken.revoked_at.is_(None))
            .values(revoked_at=now_ms())
        ).rowcount
    if not done:
        raise NotFound(f"token {token_id} does not exist or is already revoked.")


def authenticate(store: MetadataStore, secret: str) -> Authenticated:
    """The bearer of ``secret``, or Unauthenticated (the message never repeats the secret)."""
    if not secret.startswith(PREFIX):
        raise Unauthenticated("the token is not an mloop token (they start with 'mlp_').")
    with store.read() as conn:
        row = conn.execute(
            select(
                AuthToken.id,
                AuthToken.user,
                AuthToken.scopes,
                AuthToken.expires_at,
                AuthToken.revoked_at,
                AuthUser.kind,
                AuthUser.is_admin,
                AuthUser.disabled_at,
            )
            .join(AuthUser, AuthUser.name == AuthToken.user)
            .where(AuthToken.token_hash == digest(secret))
        ).first()
    if row is None:
        raise Unauthenticated("the token is not valid; create one with `mloop tokens create`.")
    if row.revoked_at is not None:
        raise Unauthenticated(f"token {row.id} was revoked; create a new one.")
    if row.expires_at is not None and row.expires_at <= now_ms():
        raise Unauthenticated(f"token {row.id} has expired; create a new one.")
    if row.disabled_at is not None:
        raise Unauthenticated(f"user {row.user!r} is disabled.")
    return Authenticated(
        row.user, row.kind, bool(row.is_admin), frozenset(row.scopes.split()), int(row.id)
    )
