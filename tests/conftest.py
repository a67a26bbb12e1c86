"""Shared fixtures: an isolated mloop home per test, and the backend matrix.

Backends that need a server (PostgreSQL, Redis) run when the server answers. With
``CI=true`` an unreachable server fails the test instead of skipping it, so CI can
never pass by skipping the at-scale backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "MLOOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("MLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Ray tests share one worker (``--dist loadgroup``), so the session starts one Ray."""
    for item in items:
        if item.get_closest_marker("ray"):
            item.add_marker(pytest.mark.xdist_group("ray"))


def _reset_mloop() -> None:
    import mloop.store

    mloop.store.reset()
    try:
        from mloop.tracking import _reset_for_tests
    except ImportError:
        return
    _reset_for_tests()


@pytest.fixture(autouse=True)
def mloop_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test runs in its own folder with embedded stores under ``./.mloop``."""
    for name in list(os.environ):
        if name.startswith("MLOOP_") and not name.startswith("MLOOP_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLOOP_HOME", str(tmp_path / ".mloop"))
    _reset_mloop()
    yield tmp_path
    _reset_mloop()


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error}); set CI=true to make this a failure."
    if IN_CI:
        pytest.fail(f"{what} must be reachable in CI: {error}")
    pytest.skip(message)


def postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database for one test and drop it afterwards."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        _unavailable("psycopg", exc)
    name = f"mloop_t_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL at " + PG_ADMIN_URL, exc)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        import mloop.store

        mloop.store.reset()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database."""
    yield from postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, mloop_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The metadata database of the test, on each backend: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{mloop_home / '.mloop' / 'mloop.db'}"
        monkeypatch.setenv("MLOOP_DB_URL", url)
        yield url
        return
    for url in postgres_database():
        monkeypatch.setenv("MLOOP_DB_URL", url)
        yield url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database emptied for the test."""
    try:
        import redis
    except ImportError as exc:  # pragma: no cover
        _unavailable("redis-py", exc)
    url = REDIS_URL
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        _unavailable("Redis at " + url, exc)
    prefix = f"mloop_t_{uuid.uuid4().hex[:12]}"
    yield f"{url}?prefix={prefix}" if "?" not in url else f"{url}&prefix={prefix}"
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
