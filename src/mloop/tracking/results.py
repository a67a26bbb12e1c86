"""Search results: the params, metrics and tags of selected runs, as Runs or a DataFrame.

The values of every selected run come in one query per table, with the run ids passed
as one text parameter (a JSON array expanded by ``json_each`` on SQLite, an array
literal unnested ``WITH ORDINALITY`` on PostgreSQL). The database groups them by key:
each key comes back as one row holding two arrays, the positions of its runs in the
selection and their values, so the DataFrame is built a column at a time with numpy.

On SQLite the arrays travel as text: positions as comma-separated numbers, params and
tags as JSON arrays of strings. Metric values come one row each there (writing a REAL as
text that reads back exactly costs SQLite more than the row) and are grouped with numpy.
PostgreSQL sends every array as an array.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from mloop.store.db import MetadataStore
from mloop.store.schema.tracking import LatestMetric, Param, Tag
from mloop.tracking.entities import Run, RunData, RunInfo

if TYPE_CHECKING:
    import numpy as np
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

# key -> (positions of the runs in the selection, their values)
Values = dict[str, tuple["np.ndarray", Any]]


@dataclass(frozen=True)
class Found:
    """Selected run rows (in order) and, per table, the values of each key.

    Params and tags hold lists of strings; metrics a float64 array (NaN where the value
    is NaN: the store keeps NaN as NULL plus a flag).
    """

    rows: Sequence[Any]
    params: Values
    metrics: Values
    tags: Values


def _values_sql(conn: Connection, table: str, sqlite: bool, numbers: bool) -> str:
    """Per key, the positions (in the id array parameter) and values of its runs."""
    quote = conn.dialect.identifier_preparer.quote
    run_id, key, value = (quote(c) for c in ("run_id", "key", "value"))
    if not sqlite:
        return (
            f"SELECT v.{key}, array_agg(p.ord - 1), array_agg(v.{value}) "
            "FROM unnest(CAST(%s AS text[])) WITH ORDINALITY AS p(id, ord) "
            f"JOIN {quote(table)} AS v ON v.{run_id} = p.id GROUP BY v.{key}"
        )
    if numbers:  # a metric row per value: writing REALs as exact text costs more than rows
        return (
            f"SELECT v.{key}, j.key, v.{value} FROM json_each(?) AS j "
            f"JOIN {quote(table)} AS v ON v.{run_id} = j.value"
        )
    # json_each's key of an array element is its index; both aggregates see the rows of a
    # group in the same order
    return (
        f"SELECT v.{key}, group_concat(j.key), json_group_array(v.{value}) FROM json_each(?) AS j "
        f"JOIN {quote(table)} AS v ON v.{run_id} = j.value GROUP BY v.{key}"
    )


def _array_literal(items: list[str]) -> str:
    """A PostgreSQL array literal of ``items`` (every element quoted and escaped)."""
    quoted = (item.replace("\\", "\\\\").replace('"', '\\"') for item in items)
    return "{" + ",".join(f'"{item}"' for item in quoted) + "}"


def _decoded(rows: list[Any], sqlite: bool, numbers: bool) -> Values:
    """Values by key from the rows of :func:`_values_sql`."""
    import numpy as np

    if sqlite and numbers:
        return _grouped(rows)
    found: Values = {}
    for key, positions, values in rows:
        if sqlite:
            found[key] = (np.array(positions.split(","), dtype=np.int64), json.loads(values))
        else:
            cells = np.array(values, dtype=np.float64) if numbers else values
            found[key] = (np.array(positions, dtype=np.int64), cells)
    return found


def _grouped(rows: list[Any]) -> Values:
    """Metric values by key from (key, position, value) rows (None stands for NaN)."""
    import numpy as np

    if not rows:
        return {}
    keys, positions, values = zip(*rows, strict=True)
    placed = np.array(positions, dtype=np.int64)
    cells = np.array(values, dtype=np.float64)
    by_key: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        by_key.setdefault(key, []).append(index)
    return {key: (placed[indexes], cells[indexes]) for key, indexes in by_key.items()}


def fetch(store: MetadataStore, conn: Connection, rows: Sequence[Any]) -> Found:
    """The params, latest metrics and tags of the selected runs.

    Three fixed statements with one bound parameter (the run ids as one text), read
    through the DB-API cursor: SQLAlchemy's per-row objects and the driver's per-item
    parameter adaptation would cost more than the database's own work.
    """
    if not rows:
        return Found(rows, {}, {}, {})
    ids = [row[0] for row in rows]
    sqlite = store.is_sqlite
    argument = json.dumps(ids) if sqlite else _array_literal(ids)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        found = []
        for table in (Param.__tablename__, LatestMetric.__tablename__, Tag.__tablename__):
            numbers = table == LatestMetric.__tablename__
            cursor.execute(_values_sql(conn, table, sqlite, numbers), (argument,))
            found.append(_decoded(cursor.fetchall(), sqlite, numbers))
    finally:
        cursor.close()
    return Found(rows, found[0], found[1], found[2])


def _by_run(count: int, values: Values) -> list[dict[str, Any]]:
    grouped: list[dict[str, Any]] = [{} for _ in range(count)]
    for key, (positions, cells) in values.items():
        for position, cell in zip(positions.tolist(), _plain(cells), strict=True):
            grouped[position][key] = cell
    return grouped


def _plain(cells: Any) -> list[Any]:
    return cells.tolist() if hasattr(cells, "tolist") else list(cells)


def as_runs(found: Found) -> list[Run]:
    """The found runs as :class:`Run` entities, in order."""
    count = len(found.rows)
    params, metrics, tags = (_by_run(count, v) for v in (found.params, found.metrics, found.tags))
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
    count = len(rows)
    columns: dict[str, Any] = {name: [row[index] for row in rows] for name, index in _FRAME_COLUMNS}
    columns["experiment_id"] = [str(value) for value in columns["experiment_id"]]
    for column in ("start_time", "end_time"):  # None (a run still running) becomes NaT
        millis = np.array(columns[column], dtype="float64")
        columns[column] = pd.to_datetime(millis, unit="ms", utc=True)
    for prefix, values in (
        ("metrics", found.metrics),
        ("params", found.params),
        ("tags", found.tags),
    ):
        for key in sorted(values):
            positions, cells = values[key]
            if prefix == "metrics":  # no value becomes NaN in a float64 column
                placed = np.full(count, np.nan)
            else:
                placed = np.full(count, None, dtype=object)
            placed[positions] = cells
            columns[f"{prefix}.{key}"] = placed
    return pd.DataFrame(columns)
