"""auth tables: users, tokens, workspace members, object owners, idempotency keys

Revision ID: auth_0001
Revises:
Create Date: 2026-12-08 01:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "auth_0001"
down_revision = None
branch_labels = ("auth",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auth_users",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("disabled_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_auth_users")),
    )
    op.create_table(
        "auth_tokens",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("user", sa.String(length=256), nullable=False),
        sa.Column("scopes", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user"], ["auth_users.name"], name=op.f("fk_auth_tokens_user_auth_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_tokens_token_hash")),
    )
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_tokens_user"), ["user"], unique=False)
    op.create_table(
        "auth_members",
        sa.Column("workspace", sa.String(length=256), nullable=False),
        sa.Column("user", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user"], ["auth_users.name"], name=op.f("fk_auth_members_user_auth_users")
        ),
        sa.PrimaryKeyConstraint("workspace", "user", name=op.f("pk_auth_members")),
    )
    with op.batch_alter_table("auth_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_members_user"), ["user"], unique=False)
    op.create_table(
        "auth_owners",
        sa.Column("object_kind", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=512), nullable=False),
        sa.Column("workspace", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("object_kind", "object_id", name=op.f("pk_auth_owners")),
    )
    with op.batch_alter_table("auth_owners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_owners_workspace"), ["workspace"], unique=False)
    op.create_table(
        "server_requests",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_server_requests")),
    )
    with op.batch_alter_table("server_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_server_requests_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("server_requests")
    op.drop_table("auth_owners")
    op.drop_table("auth_members")
    op.drop_table("auth_tokens")
    op.drop_table("auth_users")
