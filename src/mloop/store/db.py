"""The metadata store: one SQLAlchemy engine on SQLite (embedded) or PostgreSQL (at scale).

Opening a store applies pending Alembic migrations under a lock, so several processes
can open a new store at once. On SQLite the database runs in WAL mode with a busy
timeout, and write transactions start with ``BEGIN IMMEDIATE`` so that concurrent
writers queue for the lock instead of failing with "database is locked".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from mloop.core.errors import ConfigError, InvalidInput, StoreUnavailable

T = TypeVar("T")

_WRITE = "mloop_write"
_RETRIES = 8
_STATEMENTS = 256  # built upsert statements kept per store


class MetadataStore:
    """Connections and transactions on the metadata database.

    >>> store = MetadataStore("sqlite:///:memory:")
    >>> with store.write() as conn:
    ...     ...
    """

    def __init__(self, url: str, busy_timeout: float = 30.0, migrate: bool = True) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self._statements: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = {}
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError(
                f"db_url = {url!r} is not a database URL; use sqlite:///path/mloop.db or "
                "postgresql+psycopg://user@host:5432/db."
            ) from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"db_url = {parsed.render_as_string(hide_password=True)!r}: mloop supports sqlite "
                "and postgresql (postgresql+psycopg://...)."
            )
        self.display_url = parsed.render_as_string(hide_password=True)
        self.engine = self._create_engine(url)
        if migrate:
            from mloop.store.migrate import upgrade

            upgrade(self)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file on SQLite (None for in-memory or other databases)."""
        database = make_url(self.url).database
        if not self.is_sqlite or not database or database == ":memory:":
            return None
        return Path(database)

    def _create_engine(self, url: str) -> Engine:
        if self.is_sqlite:
            path = self.sqlite_path
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"timeout": self.busy_timeout, "check_same_thread": False},
                # one shared connection for an in-memory database, else each thread sees its own
                poolclass=StaticPool if path is None else None,
            )
            timeout_ms = int(self.busy_timeout * 1000)

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cursor = dbapi_conn.cursor()
                if path is not None:
                    cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA case_sensitive_like=ON")  # LIKE as on PostgreSQL
                cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                immediate = conn.get_execution_options().get(_WRITE, False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (a deferred transaction, rolled back at the end)."""
        with self._unavailable_as_error(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without error."""
        with self._unavailable_as_error(), self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """An ORM session; with ``write=True`` it commits when the block ends without error."""
        bind = self.engine.execution_options(**{_WRITE: True}) if write else self.engine
        with self._unavailable_as_error(), Session(bind, expire_on_commit=False) as session:
            if write:
                with session.begin():
                    yield session
            else:
                yield session

    def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a write transaction, retrying when the database is busy.

        Use it for writes that may meet other writers (tracking flushes, registrations):
        the lock wait of SQLite is bounded by its busy timeout, and a transaction that
        still finds the database locked is retried with jittered back-off, so callers
        never see "database is locked".
        """
        for attempt in range(_RETRIES):
            try:
                with self.write() as conn:
                    return work(conn)
            except OperationalError as exc:
                if not _is_busy(exc) or attempt == _RETRIES - 1:
                    raise
                time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def transaction_retrying_conflicts(
        self, work: Callable[[Connection], T], attempts: int = _RETRIES
    ) -> T:
        """Run ``work`` in a write transaction, again when it breaks a unique constraint.

        For writes that allocate the next number (``max(version) + 1``): a concurrent writer
        that took the same number makes the insert fail, and the next attempt reads the new
        maximum. After ``attempts`` conflicts the database's error is raised.
        """
        if attempts < 1:
            raise InvalidInput(f"attempts must be at least 1, got {attempts}.")
        for attempt in range(attempts):
            try:
                return self.transaction(work)
            except IntegrityError:  # another writer took the number: take the next
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            if _is_busy(exc) or not _is_connect_error(exc):
                raise
            raise StoreUnavailable(
                f"cannot reach the metadata database {self.display_url}: {_first_line(exc)}. "
                "Check that the server runs and MLOOP_DB_URL is right."
            ) from None

    # -- dialect helpers ----------------------------------------------------------------

    def insert_ignore(
        self, conn: Connection, table: Any, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert rows, skipping those whose primary or unique key already exists."""
        if not rows:
            return
        stmt = self._statement(
            ("ignore", table), lambda: self._insert(table).on_conflict_do_nothing()
        )
        conn.execute(stmt, list(rows))

    def upsert(
        self,
        conn: Connection,
        table: Any,
        rows: Sequence[Mapping[str, Any]],
        keys: Sequence[str],
        update: Sequence[str],
        where: Any = None,
    ) -> None:
        """Insert rows or update ``update`` columns of existing ones (optionally only ``where``).

        ``where`` is an expression, or a function of the incoming row (``excluded``) that
        returns one. Statements with no ``where`` or a function are built once and reused
        (building one costs more than a small write): a function is told apart by its code
        and the objects it closes over.
        """
        if not rows:
            return

        def build() -> Any:
            stmt = self._insert(table)
            return stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={column: stmt.excluded[column] for column in update},
                where=where(stmt.excluded) if callable(where) else where,
            )

        if where is None or callable(where):
            held = tuple(c.cell_contents for c in getattr(where, "__closure__", None) or ())
            code = getattr(where, "__code__", where)
            key = ("upsert", table, tuple(keys), tuple(update), code, *map(id, held))
            conn.execute(self._statement(key, build, held), list(rows))
        else:  # an expression object: no stable key to cache it under
            conn.execute(build(), list(rows))

    def _statement(
        self, key: tuple[Any, ...], build: Callable[[], Any], held: tuple[Any, ...] = ()
    ) -> Any:
        """The statement cached under ``key``, built on first use.

        ``held`` keeps alive what the key names by identity, so those ids stay unique.
        """
        cached = self._statements.get(key)
        if cached is None:
            if len(self._statements) >= _STATEMENTS:
                self._statements.clear()
            cached = self._statements[key] = (build(), held)
        return cached[0]

    def _insert(self, table: Any) -> Any:
        if self.is_sqlite:
            from sqlalchemy.dialects import sqlite

            return sqlite.insert(table)
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)

    def dispose(self) -> None:
        """Close every pooled connection (call in a forked child or at the end of tests)."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"MetadataStore({self.display_url!r})"


def _is_busy(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def _is_connect_error(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in (
            "connection refused",
            "could not connect",
            "connection failed",
            "unable to open",
        )
    )


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
