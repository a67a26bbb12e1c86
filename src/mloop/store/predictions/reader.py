"""Reading the prediction log: the segments of a period, queried with DuckDB."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from mloop.store.predictions._times import ms_to_utc as _ms_to_utc
from mloop.store.predictions._times import to_ms as _to_ms
from mloop.store.schema.predictions import PredictionSegment

if TYPE_CHECKING:
    import pandas as pd

BASE_COLUMNS = ("request_id", "ts", "model_name", "model_version", "latency_ms")


@dataclass(frozen=True)
class Segment:
    """One Parquet file of logged predictions (a row of ``prediction_segments``)."""

    id: str
    model_name: str
    model_version: str
    rows: int
    min_ts: int
    max_ts: int
    artifact_key: str
    num_bytes: int
    created_at: int


def list_segments(
    model_name: str | None = None,
    start: Any = None,
    end: Any = None,
    version: str | int | None = None,
) -> list[Segment]:
    """The segments of ``model_name`` (all models when None) overlapping ``[start, end)``.

    >>> [s.rows for s in list_segments("delays", start="2026-01-01")]
    [5000, 1200]
    """
    from mloop.store import get_store

    query = select(PredictionSegment.__table__)
    if model_name is not None:
        query = query.where(PredictionSegment.model_name == str(model_name))
    if version is not None:
        query = query.where(PredictionSegment.model_version == str(version))
    if start is not None:
        query = query.where(PredictionSegment.max_ts >= _to_ms(start))
    if end is not None:
        query = query.where(PredictionSegment.min_ts < _to_ms(end))
    query = query.order_by(PredictionSegment.min_ts, PredictionSegment.id)
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    return [
        Segment(
            r.id,
            r.model_name,
            r.model_version,
            r.rows,
            r.min_ts,
            r.max_ts,
            r.artifact_key,
            r.num_bytes,
            r.created_at,
        )
        for r in rows
    ]


def _empty_predictions() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "request_id": pd.Series([], dtype="string"),
            "ts": pd.Series([], dtype="datetime64[ms, UTC]"),
            "model_name": pd.Series([], dtype="string"),
            "model_version": pd.Series([], dtype="string"),
            "latency_ms": pd.Series([], dtype="float64"),
        }
    )


def read_predictions(
    model_name: str,
    start: Any = None,
    end: Any = None,
    version: str | int | None = None,
) -> pd.DataFrame:
    """Logged predictions of ``model_name`` with ``start <= ts < end``, oldest first.

    Columns: ``request_id``, ``ts`` (UTC), ``model_name``, ``model_version``,
    ``latency_ms``, then ``input.<col>``, ``feature.<col>`` and ``output.<col>``.
    Segments written with different columns are read together (missing values are null).

    >>> read_predictions("delays", start="2026-01-01", end="2026-01-02")["output.proba"].mean()
    0.21
    """
    import duckdb

    from mloop.store import get_artifacts

    segments = list_segments(model_name, start, end, version)
    if not segments:
        return _empty_predictions()
    artifacts = get_artifacts()
    paths = [artifacts.uri(s.artifact_key) for s in segments]
    where: list[str] = []
    params: list[Any] = []
    if start is not None:
        where.append("ts >= ?")
        params.append(_ms_to_utc(_to_ms(start)))
    if end is not None:
        where.append("ts < ?")
        params.append(_ms_to_utc(_to_ms(end)))
    if version is not None:
        where.append("model_version = ?")
        params.append(str(version))
    sql = "SELECT * FROM read_parquet(?, union_by_name = true)"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY ts, request_id"
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        table = conn.sql(sql, params=[paths, *params]).to_arrow_table()
    frame = table.to_pandas()
    frame["ts"] = frame["ts"].astype("datetime64[ms, UTC]")
    ordered = [c for c in BASE_COLUMNS if c in frame.columns]
    rest = [c for p in ("input.", "feature.", "output.") for c in frame.columns if c.startswith(p)]
    other = [c for c in frame.columns if c not in ordered and c not in rest]
    return frame[ordered + rest + other].reset_index(drop=True)
