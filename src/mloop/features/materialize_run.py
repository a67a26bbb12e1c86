"""Materialization runs: one per view version, recorded with the range, counts and a profile.

``materialize_incremental`` starts each view where its last successful run ended (from
the beginning for a view never materialized). A profile of the copied rows (from
``mloop.data.profile``, when available) is stored with the run for ``mloop features stats``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from mloop import data
from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.core.ids import new_id
from mloop.features.ingest import checked_query
from mloop.features.materialize import copy_to_online
from mloop.features.offline import connect
from mloop.features.online_read import namespace
from mloop.store.schema.features import Materialization

if TYPE_CHECKING:
    from mloop.features.definitions import Definitions
    from mloop.features.online import OnlineStore
    from mloop.store.artifacts import ArtifactStore
    from mloop.store.db import MetadataStore

RUNNING, DONE, FAILED = "RUNNING", "DONE", "FAILED"


@dataclass(frozen=True)
class MaterializationRecord:
    id: str
    view: str
    version: int
    start_at: int | None  # epoch microseconds (UTC), None = from the beginning
    end_at: int
    rows_read: int
    rows_written: int
    started_at: int  # epoch milliseconds
    finished_at: int | None
    status: str
    online: str
    profile: dict[str, Any] | None


def _micros(value: datetime | None, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        import pandas as pd

        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        else:
            raise InvalidInput(f"{what} = {value!r} is not a datetime.")
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _last_end(store: MetadataStore, view: str, version: int) -> int | None:
    with store.read() as conn:
        return conn.execute(
            select(func.max(Materialization.end_at)).where(
                Materialization.view == view,
                Materialization.version == version,
                Materialization.status == DONE,
            )
        ).scalar()


def run_materialization(
    definitions: Definitions,
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    online: OnlineStore,
    start: datetime | None,
    end: datetime | None,
    views: Sequence[str] | None,
    incremental: bool,
) -> list[MaterializationRecord]:
    end_us = _micros(end, "end") if end is not None else now_ms() * 1000
    start_us = _micros(start, "start")
    assert end_us is not None
    if start_us is not None and start_us >= end_us:
        raise InvalidInput(f"materialize: start ({start}) must be before end ({end}).")
    names = (
        list(views) if views is not None else [d.name for d in definitions.heads("feature_view")]
    )
    records = []
    for name in names:
        view = definitions.get("feature_view", name)
        found = definitions.find("feature_view", name)
        assert found is not None
        version = found[1]
        begin = _last_end(metadata, name, version) if incremental else start_us
        run_id = new_id()
        started = now_ms()
        row: dict[str, Any] = {
            "id": run_id,
            "view": name,
            "version": version,
            "start_at": begin,
            "end_at": end_us,
            "rows_read": 0,
            "rows_written": 0,
            "started_at": started,
            "finished_at": None,
            "status": RUNNING,
            "online": _display(online.url),
            "profile": None,
        }
        _insert(metadata, row)
        profiler = _Profiler()
        con = connect(memory_limit="1GB")
        try:
            query = checked_query(con, view, artifacts)
            copied = copy_to_online(
                con, view, namespace(name, version), query, online, begin, end_us, profiler.add
            )
        except BaseException:
            _finish(metadata, run_id, {"status": FAILED, "finished_at": now_ms()})
            raise
        finally:
            con.close()
        changes: dict[str, Any] = {
            "status": DONE,
            "finished_at": now_ms(),
            "rows_read": copied.rows_read,
            "rows_written": copied.rows_written,
            "profile": profiler.dump(),
        }
        _finish(metadata, run_id, changes)
        records.append(MaterializationRecord(**{**row, **changes, "profile": profiler.result()}))
    return records


def _insert(metadata: MetadataStore, row: dict[str, Any]) -> None:
    metadata.transaction(lambda conn: conn.execute(insert(Materialization), row))


def _finish(metadata: MetadataStore, run_id: str, changes: dict[str, Any]) -> None:
    metadata.transaction(
        lambda conn: conn.execute(
            update(Materialization).where(Materialization.id == run_id).values(**changes)
        )
    )


def _display(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


class _Profiler:
    """Merges a profile per Arrow batch through mloop.data's public API, when it is there."""

    def __init__(self) -> None:
        self.profile: Any = None
        try:
            self._make = getattr(data, "profile", None)
        except ImportError:  # pragma: no cover
            self._make = None

    def add(self, batch: Any) -> None:
        if self._make is None or batch.num_rows == 0:
            return
        current = self._make(batch, like=self.profile)  # the first batch's edges, so bins add up
        self.profile = current if self.profile is None else self.profile.merge(current)

    def result(self) -> dict[str, Any] | None:
        return None if self.profile is None else self.profile.to_dict()

    def dump(self) -> str | None:
        result = self.result()
        return None if result is None else json.dumps(result, default=str)


def list_materializations(metadata: MetadataStore, view: str | None) -> list[MaterializationRecord]:
    query = select(Materialization).order_by(Materialization.started_at.desc())
    if view is not None:
        query = query.where(Materialization.view == view)
    with metadata.read() as conn:
        rows = conn.execute(query).all()
    return [
        MaterializationRecord(
            r.id,
            r.view,
            r.version,
            r.start_at,
            r.end_at,
            r.rows_read,
            r.rows_written,
            r.started_at,
            r.finished_at,
            r.status,
            r.online,
            json.loads(r.profile) if r.profile else None,
        )
        for r in rows
    ]
