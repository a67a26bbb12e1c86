"""Search results: the params, metrics and tags of selected runs, as Runs or a DataFrame.

The values of every selected run come in one query per table, with the run ids passed
as one text parameter (a JSON array expanded by ``json_each`` on SQLite, an array
literal unnested ``WITH ORDINALITY`` on PostgreSQL) rather than thousands of bound
parameters, and read through the DB-API cursor. Each value row carries the position of
its run in the selection (not its id), so the DataFrame is built column by column by
placing values at their positions, without making a Python object per run.
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
    """Selected run rows (in order) and the (position, key, value) rows of their values.

    ``position`` is the index of the value's run in ``rows``. A metric value of None
    stands for NaN (the store keeps NaN as NULL plus a flag).
    """

    rows: Sequence[Any]
    params: list[tuple[int, str, str]]
    metrics: list[tuple[int, str, float | None]]
    tags: list[tuple[int, str, str]]


def _values_sql(conn: Connection, table: str, sqlite: bool) -> str:
    """Values of the runs in the id array parameter, with each run's position in it."""
    quote = conn.dialect.identifier_preparer.quote
    run_id, key, value = (quote(c) for c in ("run_id", "key", "value"))
    if sqlite:  # json_each's key of an array element is its index
        return (
            f"SELECT j.key, v.{key}, v.{value} FROM json_each(?) AS j "
            f"JOIN {quote(table)} AS v ON v.{run_id} = j.value"
        )
    return (
        f"SELECT p.ord - 1, v.{key}, v.{value} "
        "FROM unnest(CAST(%s AS text[])) WITH ORDINALITY AS p(id, ord) "
        f"JOIN {quote(table)} AS v ON v.{run_id} = p.id"
    )


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
    argument = json.dumps(ids) if store.is_sqlite else _array_literal(ids)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        found = []
        for table in (Param.__tablename__, LatestMetric.__tablename__, Tag.__tablename__):
            cursor.execute(_values_sql(conn, table, store.is_sqlite), (argument,))
            found.append(cursor.fetchall())
    finally:
        cursor.close()
    return Found(rows, found[0], found[1], found[2])


def _by_position(count: int, values: Sequence[tuple[int, str, Any]]) -> list[dict[str, Any]]:
    grouped: list[dict[str, Any]] = [{} for _ in range(count)]
    for position, key, value in values:
        grouped[position][key] = value
    return grouped


def as_runs(found: Found) -> list[Run]:
    """The found runs as :class:`Run` entities, in order."""
    nan = math.nan
    count = len(found.rows)
    params, tags = _by_position(count, found.params), _by_position(count, found.tags)
    metrics = _by_position(count, [(p, k, nan if v is None else v) for p, k, v in found.metrics])
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
            data=RunData(params=params[i], metrics=metrics[i], tags=tags[i]),
        )
        for i, row in enumerate(found.rows)
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
        by_key: dict[str, tuple[list[int], list[Any]]] = defaultdict(lambda: ([], []))
        for position, key, value in values:
            placed = by_key[key]
            placed[0].append(position)
            placed[1].append(value)
        for key in sorted(by_key):
            positions, cells = by_key[key]
            if prefix == "metrics":  # None (NaN, or no value) becomes NaN in a float64 column
                placed_values = np.full(len(ids), np.nan)
                placed_values[positions] = np.array(cells, dtype="float64")
            else:
                placed_values = np.full(len(ids), None, dtype=object)
                placed_values[positions] = cells
            columns[f"{prefix}.{key}"] = placed_values
    return pd.DataFrame(columns)
