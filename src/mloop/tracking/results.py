"""Search results: the params, metrics and tags of selected runs, as Runs or a DataFrame.

The values of every selected run come in one query per table, with the run ids passed
as one text parameter (a JSON array expanded by ``json_each`` on SQLite, an array
literal on PostgreSQL) rather than thousands of bound parameters, and read through the
DB-API cursor. The DataFrame
is built column by column from those rows, without making a Python object per run.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from mloop.store.db import MetadataStore
from mloop.store.schema.tracking import LatestMetric, Param, Tag
from mloop.tracking.entities import Run, RunData, RunInfo

if TYPE_CHECKING:
    import pandas as pd

# the first columns of MLflow's search_runs DataFrame, from the selected run rows
# (rows hold: run_id, name, experiment_id, status, start_time, end_time, artifact_uri, ...)
_FRAME_COLUMNS = (
    ("run_id", 0),
    ("experiment_id", 2),
    ("status", 3),
    ("artifact_uri", 6),
    ("start_time", 4),
    ("end_time", 5),
)


@dataclass(frozen=True)
class Found:
    """Selected run rows (in order) and the (run_id, key, value) rows of their values.

    A metric value of None stands for NaN (the store keeps NaN as NULL plus a flag).
    """

    rows: Sequence[Any]
    params: list[tuple[str, str, str]]
    metrics: list[tuple[str, str, float | None]]
    tags: list[tuple[str, str, str]]


def _values_sql(conn: Connection, table: str, among: str) -> str:
    quote = conn.dialect.identifier_preparer.quote
    run_id, key, value = (quote(c) for c in ("run_id", "key", "value"))
    return f"SELECT {run_id}, {key}, {value} FROM {quote(table)} WHERE {run_id} {among}"


def _array_literal(items: list[str]) -> str:
    """A PostgreSQL array literal of ``items`` (every element quoted and escaped)."""
    quoted = (item.replace("\\", "\\\\").replace('"', '\\"') for item in items)
    return "{" + ",".join(f'"{item}"' for item in quoted) + "}"


def fetch(store: MetadataStore, conn: Connection, rows: Sequence[Any]) -> Found:
    """The params, latest metrics and tags of the selected runs.

    Three fixed statements with one bound parameter (the run ids as one text), read
    through the DB-API cursor: SQLAlchemy's per-row objects and the driver's per-item
    parameter adaptation would cost more than the database's own work.
    """
    if not rows:
        return Found(rows, [], [], [])
    ids = [row[0] for row in rows]
    # one text parameter that the database expands
    if store.is_sqlite:
        among, argument = "IN (SELECT value FROM json_each(?))", json.dumps(ids)
    else:
        among, argument = "= ANY(CAST(%s AS text[]))", _array_literal(ids)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        found = []
        for table in (Param.__tablename__, LatestMetric.__tablename__, Tag.__tablename__):
            cursor.execute(_values_sql(conn, table, among), (argument,))
            found.append(cursor.fetchall())
    finally:
        cursor.close()
    return Found(rows, found[0], found[1], found[2])


def _by_run(values: Sequence[tuple[str, str, Any]]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = defaultdict(dict)
    for run_id, key, value in values:
        grouped[run_id][key] = value
    return grouped


def as_runs(found: Found) -> list[Run]:
    """The found runs as :class:`Run` entities, in order."""
    nan = math.nan
    params, tags = _by_run(found.params), _by_run(found.tags)
    metrics = _by_run([(r, k, nan if v is None else v) for r, k, v in found.metrics])
    return [
        Run(
            info=RunInfo(
                run_id=row[0],
                run_name=row[1],
                experiment_id=str(row[2]),
                status=row[3],
                start_time=row[4],
                end_time=row[5],
                artifact_uri=row[6],
                user_id=row[7],
                lifecycle_stage=row[8],
                parent_run_id=row[9],
            ),
            data=RunData(
                params=params.get(row[0], {}),
                metrics=metrics.get(row[0], {}),
                tags=tags.get(row[0], {}),
            ),
        )
        for row in found.rows
    ]


def as_frame(found: Found) -> pd.DataFrame:
    """The found runs as a DataFrame shaped like MLflow's ``search_runs`` result.

    Columns: ``run_id, experiment_id, status, artifact_uri, start_time, end_time``, then
    ``metrics.*`` (float64, NaN when missing or NaN), ``params.*`` and ``tags.*`` (None
    when missing), keys sorted.
    """
    import numpy as np
    import pandas as pd

    rows = found.rows
    ids = [row[0] for row in rows]
    columns: dict[str, Any] = {
        name: ids if index == 0 else [row[index] for row in rows] for name, index in _FRAME_COLUMNS
    }
    columns["experiment_id"] = [str(value) for value in columns["experiment_id"]]
    for column in ("start_time", "end_time"):  # None (a run still running) becomes NaT
        millis = np.array(columns[column], dtype="float64")
        columns[column] = pd.to_datetime(millis, unit="ms", utc=True)
    for prefix, values in (
        ("metrics", found.metrics),
        ("params", found.params),
        ("tags", found.tags),
    ):
        by_key: dict[str, dict[str, Any]] = defaultdict(dict)
        for run_id, key, value in values:
            by_key[key][run_id] = value
        for key in sorted(by_key):
            get = by_key[key].get
            cells = [get(run_id) for run_id in ids]
            # a metric's None (NaN, or no value) becomes NaN in a float64 column
            columns[f"{prefix}.{key}"] = (
                np.array(cells, dtype="float64") if prefix == "metrics" else cells
            )
    return pd.DataFrame(columns)
