"""Logged batches as Arrow tables: what the prediction log writer buffers and converts.

Two kinds of pending items: an ``Entry`` per logged batch (DataFrames, lists, mixed
columns: converted per column at flush time), and a ``Block`` gathering the batches of
one model version logged as the same numpy columns (the serving path) as they arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.store.predictions._times import ts_ms as _ts_ms

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@dataclass
class Entry:
    model_name: str
    model_version: str
    request_ids: Any
    inputs: Any
    outputs: Any
    latency_ms: Any
    features: Any
    ts: Any
    rows: int


@dataclass
class Block:
    """Batches of one model version logged as the same columns (numpy arrays of one dtype,
    or lists of text: the serving path) with the same kind of latency (one per batch or an
    array of one per row, as the server logs it), gathered as they arrive so that a flush
    has no per-batch work left: ~5 ms of Python for 5,000 one-row batches instead of ~20 ms
    as separate entries, which held a server's GIL."""

    model_name: str
    model_version: str
    per_row_latency: bool = False  # latency given per row (arrays) or per batch (numbers)
    ids: list[Any] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    latency: list[Any] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0

    def add(self, ids: Any, ts: int, latency: Any, columns: dict[str, Any], rows: int) -> None:
        self.ids.extend(ids)
        self.ts.append(ts)
        self.latency.append(latency)
        self.sizes.append(rows)
        for name, values in columns.items():
            self.columns.setdefault(name, []).append(values)
        self.rows += rows

    def table(self) -> pa.Table:
        import numpy as np
        import pyarrow as pa

        ts = np.repeat(np.asarray(self.ts, dtype="int64"), self.sizes)
        if self.per_row_latency:
            latency = np.concatenate(self.latency).astype("float64", copy=False)
        else:
            latency = np.repeat(np.asarray(self.latency, dtype="float64"), self.sizes)
        columns = _base_columns(self.model_name, self.model_version, self.ids, ts, latency)
        for name, chunks in self.columns.items():  # one kind per column: joined, converted once
            columns[name] = _concat(chunks, self.sizes)
        return pa.table(columns)


def block_columns(*frames: tuple[str, Any]) -> dict[str, Any] | None:
    """``{"input.x": array, ...}`` when every frame is a mapping of 1-D numpy arrays or
    lists (the serving path's columns: numbers as arrays, text as lists)."""
    import numpy as np

    columns: dict[str, Any] = {}
    for prefix, frame in frames:
        if frame is None:
            continue
        if not isinstance(frame, dict):
            return None
        for name, values in frame.items():
            if not (type(values) is list or (isinstance(values, np.ndarray) and values.ndim == 1)):
                return None
            columns[f"{prefix}.{name}"] = values
    return columns


def column_kind(values: Any) -> str:
    """What a :class:`Block` gathers a column as: a numpy dtype, or ``"list"``."""
    return "list" if type(values) is list else str(values.dtype.str)


def _columns(values: pd.DataFrame | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return values
    return {str(name): values[name] for name in values.columns}


def _arrow(values: Any, rows: int) -> pa.Array:
    """One column chunk as Arrow (a list, numpy array or Series); mixed objects become text."""
    import pyarrow as pa

    if values is None:
        return pa.nulls(rows)
    try:
        if hasattr(values, "dtype") and hasattr(values, "index"):  # a pandas Series
            return pa.Array.from_pandas(values)
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # e.g. an int over 64 bits
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def _concat(chunks: list[Any], sizes: list[int]) -> pa.Array:
    """The chunks of one column over the entries of a group, as one Arrow array.

    Lists are joined before conversion and same-typed numpy arrays concatenated, so a flush
    converts each column once however many batches it holds.
    """
    import numpy as np
    import pyarrow as pa

    if all(type(c) is list for c in chunks):
        joined: list[Any] = []
        for chunk in chunks:
            joined.extend(chunk)
        return _arrow(joined, len(joined))
    same = all(isinstance(c, np.ndarray) and c.ndim == 1 for c in chunks)
    if same and len({c.dtype for c in chunks}) == 1:  # one conversion, not one per batch
        return _arrow(np.concatenate(chunks), sum(sizes))
    arrays = [_arrow(chunk, size) for chunk, size in zip(chunks, sizes, strict=True)]
    kinds = {a.type for a in arrays} - {pa.null()}
    if len(kinds) > 1:
        numeric = all(pa.types.is_integer(k) or pa.types.is_floating(k) for k in kinds)
        kinds = {pa.float64() if numeric else pa.string()}
    if kinds:
        target = kinds.pop()
        arrays = [a if a.type == target else _cast(a, target) for a in arrays]
    return pa.concat_arrays(arrays)


def _cast(array: pa.Array, target: pa.DataType) -> pa.Array:
    import pyarrow as pa

    try:
        return array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. nested values as text
        return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())


def group_table(entries: list[Entry]) -> pa.Table:
    """One Arrow table of the entries of one model version (columns in first-seen order)."""
    import numpy as np
    import pyarrow as pa

    sizes = [entry.rows for entry in entries]
    ids: list[Any] = []
    for entry in entries:
        ids.extend(entry.request_ids)
    ts = _per_row([e.ts for e in entries], sizes, _ts_ms, (int, np.integer), "int64")
    latency = _per_row(
        [e.latency_ms for e in entries],
        sizes,
        lambda v, n: np.broadcast_to(np.asarray(v, dtype="float64"), (n,)),
        (int, float, np.integer, np.floating),
        "float64",
    )
    columns = _base_columns(entries[0].model_name, entries[0].model_version, ids, ts, latency)
    per_entry = [
        {
            f"{prefix}.{name}": values
            for prefix, frame in (
                ("input", entry.inputs),
                ("feature", entry.features),
                ("output", entry.outputs),
            )
            for name, values in _columns(frame).items()
        }
        for entry in entries
    ]
    names = dict.fromkeys(name for columns_of in per_entry for name in columns_of)
    for name in names:
        chunks = [columns_of.get(name) for columns_of in per_entry]
        columns[name] = _concat(chunks, sizes)
    return pa.table(columns)


def _base_columns(model: str, version: str, ids: list[Any], ts: Any, latency: Any) -> dict:
    """The columns every logged row has: request id, time, model name and version, latency."""
    import pyarrow as pa

    try:
        request_ids = pa.array(ids, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or other objects as ids
        request_ids = pa.array([str(r) for r in ids], pa.string())
    rows = len(ids)
    return {
        "request_id": request_ids,
        "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "model_name": pa.repeat(pa.scalar(model, pa.string()), rows),
        "model_version": pa.repeat(pa.scalar(version, pa.string()), rows),
        "latency_ms": pa.array(latency, pa.float64()),
    }


def _per_row(
    values: list[Any], sizes: list[int], expand: Any, scalars: tuple[type, ...], dtype: str
) -> Any:
    """One value per row, from one per entry (``scalars``, repeated) or as ``expand`` reads
    each entry's value."""
    import numpy as np

    if all(isinstance(v, scalars) and not isinstance(v, bool) for v in values):
        return np.repeat(np.asarray(values, dtype=dtype), sizes)  # the serving case
    return np.concatenate([expand(v, n) for v, n in zip(values, sizes, strict=True)])
