"""Alembic environment: runs on the connection mloop hands over (see mloop.store.migrate)."""

from __future__ import annotations

from alembic import context

from mloop.store.schema import load_all

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=load_all(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
