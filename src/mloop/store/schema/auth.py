"""Users, service accounts, API tokens, workspaces, memberships and object ownership.

Passwords are argon2 hashes; tokens are stored as the SHA-256 of the random secret (the
secret is shown once). See docs/decisions/0181-server-auth.md.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base, BigId


class AuthUser(Base):
    __tablename__ = "auth_users"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # user or service
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)
    disabled_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuthToken(Base):
    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to tell tokens apart
    user: Mapped[str] = mapped_column(String(256), ForeignKey("auth_users.name"), index=True)
    scopes: Mapped[str] = mapped_column(String(256))  # space-separated
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuthMember(Base):
    __tablename__ = "auth_members"

    workspace: Mapped[str] = mapped_column(String(256), primary_key=True)
    user: Mapped[str] = mapped_column(
        String(256), ForeignKey("auth_users.name"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # viewer, editor or admin


class AuthOwner(Base):
    """The workspace an object belongs to; an object without a row is in ``default``."""

    __tablename__ = "auth_owners"

    object_kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    workspace: Mapped[str] = mapped_column(String(256), index=True)


class ServerRequest(Base):
    """An idempotency key the server has applied: a retried request with it is not re-applied."""

    __tablename__ = "server_requests"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)
