"""Storage: the metadata database (SQLAlchemy + Alembic) and the artifact store (fsspec).

:func:`get_store` and :func:`get_artifacts` give the stores the configuration names,
opened once per process and per configuration.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from mloop.core.config import get_settings, on_settings_change

if TYPE_CHECKING:
    from mloop.store.artifacts import ArtifactStore
    from mloop.store.db import MetadataStore
    from mloop.store.remote import RemoteStore

__all__ = ["get_artifacts", "get_remote", "get_store", "reset"]

_lock = threading.RLock()
_stores: dict[tuple[int, str], MetadataStore] = {}
_artifacts: dict[tuple[int, str, str], ArtifactStore] = {}
_remotes: dict[tuple[int, str, str, str], RemoteStore] = {}


def get_store() -> MetadataStore:
    """The metadata store of the current configuration (migrated on first open)."""
    settings = get_settings()
    key = (os.getpid(), settings.db_url)
    store = _stores.get(key)
    if store is None:
        with _lock:
            store = _stores.get(key)
            if store is None:
                from mloop.store.db import MetadataStore

                store = MetadataStore(settings.db_url, busy_timeout=settings.busy_timeout)
                _stores[key] = store
    return store


def get_artifacts() -> ArtifactStore:
    """The artifact store of the current configuration."""
    settings = get_settings()
    key = (os.getpid(), settings.artifacts_uri, settings.db_url)
    artifacts = _artifacts.get(key)
    if artifacts is None:
        with _lock:
            artifacts = _artifacts.get(key)
            if artifacts is None:
                from mloop.store.artifacts import ArtifactStore

                artifacts = ArtifactStore(settings.artifacts_uri, ledger=get_store())
                _artifacts[key] = artifacts
    return artifacts


def get_remote() -> RemoteStore | None:
    """The client of the mloop server named by ``tracking_uri`` (None when it is empty)."""
    settings = get_settings()
    if not settings.tracking_uri:
        return None
    key = (os.getpid(), settings.tracking_uri, settings.token, settings.workspace)
    remote = _remotes.get(key)
    if remote is None:
        with _lock:
            remote = _remotes.get(key)
            if remote is None:
                from mloop.store.remote import RemoteStore

                remote = RemoteStore(settings.tracking_uri, settings.token, settings.workspace)
                _remotes[key] = remote
    return remote


def reset() -> None:
    """Forget the opened stores (they reopen from the configuration on next use)."""
    with _lock:
        for store in _stores.values():
            store.dispose()
        _stores.clear()
        _artifacts.clear()
        for remote in _remotes.values():
            remote.close()
        _remotes.clear()


on_settings_change(reset)
