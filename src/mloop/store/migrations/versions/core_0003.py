"""metric history in chunks: one row per (run, key) per flush instead of one per value

The values already in ``metrics`` are packed into one chunk per (run, key), in the order
they were logged, and the table is dropped.

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-28 03:45:00.000000
"""

from __future__ import annotations

import sys
from array import array
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _pack(kind: str, items: list[Any]) -> bytes:
    packed = array(kind, items)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _unpack(kind: str, data: bytes) -> list[Any]:
    unpacked = array(kind)
    unpacked.frombytes(data)
    if sys.byteorder == "big":
        unpacked.byteswap()
    return unpacked.tolist()


def upgrade() -> None:
    chunks = op.create_table(
        "metric_chunks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("steps", sa.LargeBinary(), nullable=False),
        sa.Column("timestamps", sa.LargeBinary(), nullable=False),
        sa.Column("values", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name=op.f("fk_metric_chunks_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_chunks")),
    )
    with op.batch_alter_table("metric_chunks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metric_chunks_run_id_key"), ["run_id", "key"], unique=False
        )

    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            'SELECT run_id, "key", value, is_nan, step, timestamp FROM metrics '
            'ORDER BY run_id, "key", id'
        )
    )
    grouped: dict[tuple[str, str], tuple[list[int], list[int], list[float]]] = {}
    for run_id, key, value, is_nan, step, timestamp in rows:
        columns = grouped.setdefault((run_id, key), ([], [], []))
        columns[0].append(int(step))
        columns[1].append(int(timestamp))
        columns[2].append(float("nan") if is_nan or value is None else float(value))
    if grouped:
        op.bulk_insert(
            chunks,
            [
                {
                    "run_id": run_id,
                    "key": key,
                    "count": len(steps),
                    "steps": _pack("q", steps),
                    "timestamps": _pack("q", timestamps),
                    "values": _pack("d", values),
                }
                for (run_id, key), (steps, timestamps, values) in grouped.items()
            ],
        )
    op.drop_table("metrics")


def downgrade() -> None:
    metrics = op.create_table(
        "metrics",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_metrics_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metrics_run_id_key_step"), ["run_id", "key", "step"], unique=False
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text('SELECT run_id, "key", steps, timestamps, "values" FROM metric_chunks ORDER BY id')
    )
    unpacked = []
    for run_id, key, steps, timestamps, values in rows:
        for step, timestamp, value in zip(
            _unpack("q", steps), _unpack("q", timestamps), _unpack("d", values), strict=True
        ):
            nan = value != value
            unpacked.append(
                {
                    "run_id": run_id,
                    "key": key,
                    "value": None if nan else value,
                    "is_nan": nan,
                    "step": step,
                    "timestamp": timestamp,
                }
            )
    if unpacked:
        op.bulk_insert(metrics, unpacked)
    op.drop_table("metric_chunks")
