"""gateway tables: the usage ledger of the LLM gateway

Revision ID: gateway_0001
Revises:
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gateway_0001"
down_revision = None
branch_labels = ("gateway",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "gateway_usage",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("route", sa.String(length=256), nullable=False),
        sa.Column("served_route", sa.String(length=256), nullable=False),
        sa.Column("deployment", sa.String(length=512), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("user", sa.String(length=256), nullable=False),
        sa.Column("workspace", sa.String(length=256), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("cache_hit", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_micro_usd", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_usage")),
    )
    with op.batch_alter_table("gateway_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_workspace_at"), ["workspace", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gateway_usage_user_at"), ["user", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_route_at"), ["route", "at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("gateway_usage")
