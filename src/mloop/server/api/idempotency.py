"""Idempotency keys: a retried write with the same ``Idempotency-Key`` is applied once.

The key is inserted in the same transaction as the write it guards, so a write and its key
commit together or not at all (the client may retry after a lost answer safely).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, select

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.store.db import MetadataStore
from mloop.store.schema.auth import ServerRequest

HEADER = "Idempotency-Key"
MAX_KEY = 128


def check_key(key: str | None) -> str | None:
    if key is not None and not (0 < len(key) <= MAX_KEY):
        raise InvalidInput(f"header {HEADER} must have 1 to {MAX_KEY} characters.")
    return key


def seen(store: MetadataStore, key: str) -> bool:
    with store.read() as conn:
        return (
            conn.execute(select(ServerRequest.key).where(ServerRequest.key == key)).first()
            is not None
        )


def recorder(key: str) -> Callable[[Connection], None]:
    """A step to run last inside the guarded transaction: it records ``key``."""

    def record(conn: Connection) -> None:
        conn.execute(insert(ServerRequest), {"key": key, "created_at": now_ms()})

    return record
