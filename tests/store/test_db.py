"""The metadata store: migrations on open, the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from mloop.core.errors import ConfigError, InvalidInput, StoreUnavailable
from mloop.store import get_store
from mloop.store.db import MetadataStore
from mloop.store.migrate import (
    alembic_heads,
    applied,
    current_revisions,
    head_revisions,
    is_current,
)
from mloop.store.schema import load_all


def test_heads_read_from_files_agree_with_alembic() -> None:
    mine = set(head_revisions())
    assert mine <= alembic_heads()
    assert alembic_heads() <= applied(mine)


def test_opening_a_new_store_applies_every_migration(db_url: str) -> None:
    store = get_store()
    with store.read() as conn:
        assert is_current(current_revisions(conn))
        tables = set(inspect(conn).get_table_names())
    assert {"runs", "metric_chunks", "model_versions", "lineage_edges", "audit_log"} <= tables


def test_migrated_schema_matches_the_orm_tables(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = get_store()
    with store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), load_all())
    assert diff == []


def test_every_foreign_key_is_indexed(db_url: str) -> None:
    store = get_store()
    with store.read() as conn:
        inspector = inspect(conn)
        for table in inspector.get_table_names():
            indexed = [tuple(ix["column_names"]) for ix in inspector.get_indexes(table)]
            pk = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
            indexed.append(pk)
            indexed += [tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)]
            for fk in inspector.get_foreign_keys(table):
                columns = tuple(fk["constrained_columns"])
                assert any(ix[: len(columns)] == columns for ix in indexed), (table, columns)


def test_reopening_a_current_store_does_not_migrate_again(db_url: str) -> None:
    get_store()
    import mloop.store

    mloop.store.reset()
    store = MetadataStore(db_url)
    with store.read() as conn:
        rows = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    assert is_current(rows)


def _open_and_write(url: str, index: int) -> int:
    from mloop.store.db import MetadataStore
    from mloop.store.schema.lineage import LineageEdge

    store = MetadataStore(url)
    row = {
        "from_kind": "run",
        "from_id": f"r{index}",
        "relation": "made",
        "to_kind": "model_version",
        "to_id": f"m/{index}",
        "created_at": 0,
        "properties": None,
    }
    store.transaction(lambda conn: store.insert_ignore(conn, LineageEdge.__table__, [row]))
    return index


def test_several_processes_can_open_a_new_store_at_once(db_url: str) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        assert sorted(pool.starmap(_open_and_write, [(db_url, i) for i in range(4)])) == [
            0,
            1,
            2,
            3,
        ]
    from mloop.store.schema.lineage import LineageEdge

    with get_store().read() as conn:
        assert len(conn.execute(select(LineageEdge)).all()) == 4
        assert is_current(current_revisions(conn))


def test_sqlite_store_runs_in_wal_mode_with_a_busy_timeout(mloop_home: Path) -> None:
    store = get_store()
    assert store.is_sqlite
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert store.sqlite_path == mloop_home / ".mloop" / "mloop.db"


def test_a_bad_database_url_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="db_url"):
        MetadataStore("not a url")
    with pytest.raises(ConfigError, match="sqlite and postgresql"):
        MetadataStore("mysql://root@localhost/test")


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="MLOOP_DB_URL"):
        MetadataStore("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2")


def _old_run(conn: Any) -> None:
    """Experiment 7 ('old') with run 'r1', inserted as an older schema holds them."""
    conn.execute(
        text(
            "INSERT INTO experiments (experiment_id, name, artifact_location, "
            "lifecycle_stage, created_at, updated_at) VALUES (7, 'old', 'x', 'active', 1, 1)"
        )
    )
    conn.execute(
        text(
            'INSERT INTO runs (run_id, experiment_id, name, status, start_time, heartbeat_at, "user", '
            "artifact_uri, lifecycle_stage) VALUES ('r1', 7, 'old', 'FINISHED', 1, 1, 'me', 'x', 'active')"
        )
    )


@contextmanager
def _old_store(db_url: str, revision: str) -> Iterator[Any]:
    """A connection to a store migrated only up to ``revision`` and holding :func:`_old_run`
    (committed when the block ends)."""
    from alembic import command
    from sqlalchemy import create_engine

    from mloop.store.migrate import _config

    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
            _old_run(conn)
            yield conn
    finally:
        engine.dispose()


def test_the_metric_history_survives_the_move_to_chunks_and_back(db_url: str) -> None:
    """core_0003 packs the rows of ``metrics`` into chunks; its downgrade unpacks them."""
    import math

    from alembic import command
    from sqlalchemy import create_engine

    import mloop
    from mloop.store.migrate import _config

    with _old_store(db_url, "core_0002") as conn:
        history = [(0, 0.9, False), (2, None, True), (1, float("inf"), False), (1, 0.5, False)]
        for number, (step, value, is_nan) in enumerate(history):
            conn.execute(
                text(
                    'INSERT INTO metrics (run_id, "key", value, is_nan, step, timestamp) '
                    "VALUES ('r1', 'loss', :value, :is_nan, :step, :ts)"
                ),
                {"value": value, "is_nan": is_nan, "step": step, "ts": 100 + number},
            )

    got = mloop.get_metric_history("r1", "loss")  # opening the store applies core_0003
    assert [(m.step, m.timestamp) for m in got] == [(0, 100), (1, 102), (1, 103), (2, 101)]
    assert [m.value for m in got][:3] == [0.9, math.inf, 0.5] and math.isnan(got[3].value)

    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(_config(conn), "core_0002")
        rows = conn.execute(
            text('SELECT step, value, is_nan FROM metrics ORDER BY "timestamp"')
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (0, 0.9, False),
        (2, None, True),
        (1, math.inf, False),
        (1, 0.5, False),
    ]


def test_search_values_survive_the_move_to_clustered_tables_and_back(db_url: str) -> None:
    """core_0004 rebuilds params, tags and latest_metrics WITHOUT ROWID on SQLite."""
    from alembic import command
    from sqlalchemy import create_engine

    import mloop
    from mloop.store.migrate import _config

    with _old_store(db_url, "core_0003") as conn:
        conn.execute(text("INSERT INTO params VALUES ('r1', 'depth', '3')"))
        conn.execute(text("INSERT INTO tags VALUES ('r1', 'team', 'ops')"))
        conn.execute(
            text(
                'INSERT INTO latest_metrics (run_id, "key", value, is_nan, step, timestamp) '
                "VALUES ('r1', 'loss', 0.25, false, 3, 100)"
            )
        )

    # opening the store applies core_0004
    [run] = mloop.search_runs(experiment_names=["old"], output_format="list")
    assert (run.data.params, run.data.tags, run.data.metrics) == (
        {"depth": "3"},
        {"team": "ops"},
        {"loss": 0.25},
    )
    engine = create_engine(db_url)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            definitions = conn.execute(
                text(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' "
                    "AND name IN ('params', 'tags', 'latest_metrics')"
                )
            ).scalars()
            assert all("WITHOUT ROWID" in sql for sql in definitions)
    with engine.begin() as conn:
        command.downgrade(_config(conn), "core_0003")
        values = conn.execute(
            text(
                "SELECT p.value, t.value, m.value FROM params p JOIN tags t ON t.run_id = p.run_id "
                "JOIN latest_metrics m ON m.run_id = p.run_id"
            )
        ).all()
        definitions = []
        if engine.dialect.name == "sqlite":
            definitions = list(
                conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE name IN ('params', 'tags')")
                ).scalars()
            )
    engine.dispose()
    assert [tuple(v) for v in values] == [("3", "ops", 0.25)]
    assert not any("WITHOUT ROWID" in sql for sql in definitions)


def _probe_store() -> MetadataStore:
    store = get_store()
    store.transaction(
        lambda conn: conn.execute(
            text(
                "CREATE TABLE retry_probe (name VARCHAR(20), version INTEGER, PRIMARY KEY (name, version))"
            )
        )
    )
    for taken in (1, 2):
        store.transaction(
            lambda conn, n=taken: conn.execute(
                text("INSERT INTO retry_probe VALUES ('m', :n)"), {"n": n}
            )
        )
    return store


def _numbers(store: MetadataStore) -> list[int]:
    with store.read() as conn:
        return sorted(r[0] for r in conn.execute(text("SELECT version FROM retry_probe")))


def test_a_number_taken_by_another_writer_is_retried_with_the_next(db_url: str) -> None:
    store = _probe_store()
    stale = iter([1, 2, 3])  # a writer whose reads lag behind two concurrent inserts
    calls: list[int] = []

    def work(conn: Any) -> int:
        number = next(stale)
        calls.append(number)
        conn.execute(text("INSERT INTO retry_probe VALUES ('m', :n)"), {"n": number})
        return number

    assert store.transaction_retrying_conflicts(work) == 3
    assert calls == [1, 2, 3]
    assert _numbers(store) == [1, 2, 3]


def test_conflicts_beyond_the_attempts_raise_and_other_errors_are_not_retried(
    db_url: str,
) -> None:
    from sqlalchemy.exc import IntegrityError as DBIntegrityError

    store = _probe_store()
    calls: list[int] = []

    def always_taken(conn: Any) -> None:
        calls.append(1)
        conn.execute(text("INSERT INTO retry_probe VALUES ('m', 1)"))

    with pytest.raises(DBIntegrityError):
        store.transaction_retrying_conflicts(always_taken, attempts=3)
    assert len(calls) == 3

    def refused(conn: Any) -> None:
        calls.append(1)
        conn.execute(text("INSERT INTO retry_probe VALUES ('m', 7)"))
        raise ConfigError("not a conflict")

    calls.clear()
    with pytest.raises(ConfigError):
        store.transaction_retrying_conflicts(refused)
    assert calls == [1]
    assert _numbers(store) == [1, 2]  # the refused transaction was rolled back
    with pytest.raises(InvalidInput, match="attempts must be at least 1"):
        store.transaction_retrying_conflicts(refused, attempts=0)
