"""Materialization: copy each entity's latest feature row of a time range to the online store.

The view's feature rows come from the same query as training sets (:func:`compile_view`);
DuckDB reduces them to the latest row per entity (by event time, then created time) with
a hash aggregate and streams the result as Arrow batches, so memory stays bounded by the
number of entities in a batch, not by the size of the source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.features.online.codec import encode_key, encode_values
from mloop.features.transforms import quote

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from mloop.features.feature_view import FeatureView
    from mloop.features.online import OnlineStore

BATCH_ROWS = 20_000


@dataclass(frozen=True)
class Copied:
    rows_read: int
    rows_written: int


def latest_rows_sql(view: FeatureView, query: str, start_us: int | None, end_us: int | None) -> str:
    """The latest row per entity among the view's rows with ``start <= event time < end``."""
    keys = ", ".join(quote(k) for k in view.entity.join_keys)
    features = [quote(f) for f in view.feature_names]
    if not view.timestamp:
        fields = ", ".join(features)
        return f"SELECT {keys}, NULL::TIMESTAMP AS __ts, 1 AS __n{', ' if fields else ''}{fields} FROM ({query}) f"
    where = []
    if start_us is not None:
        where.append(f"__ts >= make_timestamp({int(start_us)})")
    if end_us is not None:
        where.append(f"__ts < make_timestamp({int(end_us)})")
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    packed = ", ".join(["__ts := __ts", *(f"{f} := {f}" for f in features)])
    unpacked = ", ".join(f"__latest.{f} AS {f}" for f in features)
    return (
        f"SELECT {keys}, __latest.__ts AS __ts, __n{', ' if unpacked else ''}{unpacked} FROM ("
        f"SELECT {keys}, arg_max(struct_pack({packed}), struct_pack(t := __ts, c := __created)) AS __latest, "
        f"count(*) AS __n FROM ({query}) f {condition} GROUP BY ALL)"
    )


def batches(
    con: duckdb.DuckDBPyConnection, sql: str, rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    reader = con.sql(sql).to_arrow_reader(rows)
    assert reader is not None
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return


def copy_to_online(
    con: duckdb.DuckDBPyConnection,
    view: FeatureView,
    namespace: str,
    query: str,
    online: OnlineStore,
    start_us: int | None,
    end_us: int | None,
    on_batch: Callable[[Any], None] | None = None,
) -> Copied:
    """Write the latest rows of ``view`` in the range to ``online`` under ``namespace``."""
    keys = list(view.entity.join_keys)
    features = view.feature_names
    read = written = 0
    for batch in batches(con, latest_rows_sql(view, query, start_us, end_us)):
        if on_batch is not None:
            on_batch(batch.select(features))
        key_columns = [batch.column(k).to_pylist() for k in keys]
        value_columns = [batch.column(f).to_pylist() for f in features]
        stamps = batch.column("__ts").cast("int64").to_pylist()
        read += sum(batch.column("__n").to_pylist())
        rows = []
        for i, values in enumerate(
            zip(*value_columns, strict=True) if value_columns else [()] * batch.num_rows
        ):
            key = encode_key([column[i] for column in key_columns])
            if key is not None:
                rows.append((key, stamps[i] if stamps[i] is not None else 0, encode_values(values)))
        written += online.write(namespace, rows)
    return Copied(read, written)
