"""Alembic migrations applied when a store opens, safely across processes.

Each part of mloop owns a migration branch (``core``, ``data``, ``features``...) in
``migrations/versions``; opening a store upgrades every branch to its head. A file lock
(SQLite) or an advisory lock (PostgreSQL) makes concurrent openers take turns, and a
store that is already current is recognised without taking the lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from mloop.store.db import MetadataStore

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)
_DEPENDS = re.compile(r"^depends_on\s*=\s*(.+)$", re.MULTILINE)
_PG_LOCK_KEY = 0x6D6C6F6F70  # "mloop"


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


@cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


@cache
def _graph() -> dict[str, frozenset[str]]:
    """Each revision and the revisions it needs (``down_revision`` and ``depends_on``).

    Read straight from the revision files, so opening an up-to-date store never imports
    Alembic; a test checks that the heads agree with Alembic's own view.
    """
    graph: dict[str, frozenset[str]] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text()
        revision = _REVISION.search(source)
        if revision is None:
            continue
        needs: set[str] = set()
        for pattern in (_DOWN, _DEPENDS):
            found = pattern.search(source)
            if found is not None:
                needs.update(re.findall(r"['\"]([^'\"]+)['\"]", found.group(1)))
        graph[revision.group(1)] = frozenset(needs)
    return graph


def head_revisions() -> frozenset[str]:
    """The head revision of every migration branch in this version of mloop."""
    graph = _graph()
    needed = {parent for parents in graph.values() for parent in parents}
    return frozenset(set(graph) - needed)


def applied(current: set[str]) -> set[str]:
    """Every revision implied by the rows of ``alembic_version`` (they hold only the tips)."""
    graph = _graph()
    done: set[str] = set()
    todo = list(current)
    while todo:
        revision = todo.pop()
        if revision not in done:
            done.add(revision)
            todo.extend(graph.get(revision, ()))
    return done


def alembic_heads() -> set[str]:
    """The heads as Alembic computes them (slower; for checks and ``mloop db status``)."""
    return set(_scripts().get_heads())


def current_revisions(conn: Connection) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    if not inspect(conn).has_table("alembic_version"):
        return set()
    return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def pending(store: MetadataStore) -> bool:
    """True when the database lacks migrations this version of mloop has."""
    with store.read() as conn:
        return not is_current(current_revisions(conn))


def is_current(current: set[str]) -> bool:
    """True when the database rows ``current`` cover every head of this version of mloop."""
    return head_revisions() <= applied(current)


def upgrade(store: MetadataStore) -> None:
    """Bring the database to the head of every branch (no-op when already there)."""
    if not pending(store):
        return
    from alembic import command

    with _migration_lock(store), store.write() as conn:
        if is_current(current_revisions(conn)):
            return  # another process finished the job while we waited
        command.upgrade(_config(conn), "heads")


@contextmanager
def _migration_lock(store: MetadataStore) -> Iterator[None]:
    if store.is_sqlite:
        path = store.sqlite_path
        if path is None:
            yield
            return
        from filelock import FileLock

        with FileLock(str(path) + ".migrate.lock", timeout=store.busy_timeout * 4):
            yield
        return
    with store.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
            conn.commit()
