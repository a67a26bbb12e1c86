"""search values clustered by run: params, tags and latest_metrics WITHOUT ROWID (SQLite)

A search reads every value of each selected run. In a rowid table that is a range of
the primary-key index plus one table lookup per value; a WITHOUT ROWID table keeps the
rows in primary-key order, so a run's values are one b-tree range. PostgreSQL has no
such option and is left as it is.

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-28 06:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None

_TABLES = ("params", "tags", "latest_metrics")


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:  # a copy of the table with the same columns, keys and indexes
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass  # nothing to alter: leaving the block copies the table with the new option


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
