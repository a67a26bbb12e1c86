"""The offline engine: a DuckDB connection and what it says about a Parquet source.

The point-in-time join itself lives in :mod:`mloop.features.point_in_time`.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING

from mloop.features.feature_view import FeatureView
from mloop.features.transforms import quote
from mloop.features.view_sql import event_time_sql

if TYPE_CHECKING:
    import duckdb


def connect(memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection in UTC."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def parquet_relation(path: str) -> str:
    """The DuckDB table expression reading a Parquet file, folder or glob."""
    if not any(ch in path for ch in "*?[") and not path.endswith(".parquet") and "://" not in path:
        path = path.rstrip("/") + "/**/*.parquet"
    return f"read_parquet('{path.replace(chr(39), chr(39) * 2)}', file_row_number = true)"


def describe(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table expression or query (reads metadata only)."""
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def unique_times(con: duckdb.DuckDBPyConnection, view: FeatureView, relation: str) -> bool:
    """Whether no two rows of the source share join keys and event time (one full pass)."""
    keys = ", ".join(quote(k) for k in view.entity.join_keys)
    ts = event_time_sql(view, describe(con, relation))
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {relation} WHERE {ts} IS NOT NULL "
        f"GROUP BY {keys}, {ts} HAVING count(*) > 1 LIMIT 1)"
    )
    [(duplicated,)] = con.execute(sql).fetchall()
    return bool(duplicated == 0)


_MOVED = {"point_in_time_join", "ViewJoin"}


def __getattr__(name: str) -> object:
    """``mloop.features.offline.point_in_time_join`` moved to ``mloop.features.point_in_time``
    (deprecated alias, removed in the next release)."""
    if name in _MOVED:
        # the alias goes away next release: imported by name, not a dependency of this module
        point_in_time = importlib.import_module("mloop.features.point_in_time")
        warnings.warn(
            f"mloop.features.offline.{name} moved to mloop.features.point_in_time.{name}; "
            "import it from there.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(point_in_time, name)
    raise AttributeError(f"module 'mloop.features.offline' has no attribute {name!r}")
