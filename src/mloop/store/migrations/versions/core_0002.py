"""drop indexes a primary key or a composite index already covers

Each foreign key stays indexed (by its primary key or composite index prefix); the
dropped indexes only slowed writes, most of all the metric history's.

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-28 03:09:00.665406
"""

from __future__ import annotations

from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None

# (table, index, columns) of every dropped index
DROPPED = [
    ("experiment_tags", "ix_experiment_tags_experiment_id", ["experiment_id"]),
    ("latest_metrics", "ix_latest_metrics_run_id", ["run_id"]),
    ("metrics", "ix_metrics_run_id", ["run_id"]),
    ("model_versions", "ix_model_versions_name", ["name"]),
    ("model_version_tags", "ix_model_version_tags_name_version", ["name", "version"]),
    ("params", "ix_params_run_id", ["run_id"]),
    ("registered_model_tags", "ix_registered_model_tags_name", ["name"]),
    ("runs", "ix_runs_experiment_id", ["experiment_id"]),
    ("tags", "ix_tags_run_id", ["run_id"]),
]


def upgrade() -> None:
    for table, index, _ in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)


def downgrade() -> None:
    for table, index, columns in reversed(DROPPED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(index, columns, unique=False)
