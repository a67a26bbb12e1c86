"""Writing the prediction log: a buffer flushed by a background thread into Parquet segments."""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.core.ids import new_id
from mloop.core.log import get_logger
from mloop.store.predictions._times import monotonic as _monotonic
from mloop.store.predictions._times import ts_ms as _ts_ms
from mloop.store.schema.predictions import PredictionSegment

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_log = get_logger("mloop.store.predictions")


@dataclass
class _Entry:
    model_name: str
    model_version: str
    request_ids: Any
    inputs: Any
    outputs: Any
    latency_ms: Any
    features: Any
    ts: Any
    rows: int


class PredictionLogWriter:
    """Buffers logged predictions and writes them as Parquet segments in the background.

    A segment is written when ``flush_rows`` rows are pending or ``flush_seconds`` have
    passed since the first pending row; :meth:`flush` writes at once and :meth:`close`
    flushes and stops the thread. When writes keep failing (the store is down) and more
    than ``max_pending_rows`` pile up, the oldest are dropped, counted in
    :attr:`dropped_rows` and reported in the log.

    >>> with PredictionLogWriter(flush_rows=1000) as writer:
    ...     writer.log("delays", "3", ids, inputs, outputs, latency_ms)
    """

    def __init__(
        self,
        flush_rows: int = 10_000,
        flush_seconds: float = 5.0,
        max_pending_rows: int | None = None,
    ) -> None:
        if flush_rows < 1 or flush_seconds <= 0:
            raise InvalidInput(
                f"PredictionLogWriter(flush_rows={flush_rows}, flush_seconds={flush_seconds}): "
                "both must be positive, e.g. flush_rows=10000, flush_seconds=5."
            )
        self.flush_rows = int(flush_rows)
        self.flush_seconds = float(flush_seconds)
        self.max_pending_rows = int(max_pending_rows or max(100 * flush_rows, 1_000_000))
        self.written_rows = 0
        self.dropped_rows = 0
        self.failed_writes = 0
        self._pending: list[_Entry] = []
        self._pending_rows = 0
        self._first_pending = 0.0
        self._lock = threading.Condition()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def pending_rows(self) -> int:
        return self._pending_rows

    def log(
        self,
        model_name: str,
        model_version: str | int,
        request_ids: Sequence[str] | Any,
        inputs: pd.DataFrame | Mapping[str, Any],
        outputs: pd.DataFrame | Mapping[str, Any],
        latency_ms: Any,
        features: pd.DataFrame | Mapping[str, Any] | None = None,
        ts: Any = None,
    ) -> None:
        """Queue one batch of predictions (cheap: the conversion happens when writing).

        ``inputs``, ``outputs`` and ``features`` are DataFrames or mappings of column name
        to values (lists, numpy arrays or Series: the serving hot path logs the columns it
        already holds). ``request_ids``, the columns and ``latency_ms`` (a number or one per
        row) must have the same number of rows; ``ts`` is None (now), one time for all rows,
        or one per row.
        """
        rows = len(request_ids)
        for what, frame in (("inputs", inputs), ("outputs", outputs), ("features", features)):
            if frame is None:
                continue
            sizes = {len(v) for v in frame.values()} if isinstance(frame, Mapping) else {len(frame)}
            if sizes - {rows}:
                raise InvalidInput(
                    f"prediction log of {model_name!r}: {what} has {max(sizes - {rows})} rows "
                    f"but {rows} request ids were given; give one row per request id."
                )
        if rows == 0:
            return
        if self._closed:
            raise InvalidInput("this PredictionLogWriter is closed; create a new one to log.")
        entry = _Entry(
            str(model_name),
            str(model_version),
            request_ids,
            inputs,
            outputs,
            latency_ms,
            features,
            now_ms() if ts is None else ts,
            rows,
        )
        with self._lock:
            if not self._pending:
                self._first_pending = _monotonic()
            self._pending.append(entry)
            self._pending_rows += rows
            while self._pending_rows > self.max_pending_rows and len(self._pending) > 1:
                dropped = self._pending.pop(0)
                self._pending_rows -= dropped.rows
                self.dropped_rows += dropped.rows
                _log.error(
                    "prediction log: dropped %d rows of %s (pending rows over %d; are the "
                    "stores reachable?)",
                    dropped.rows,
                    dropped.model_name,
                    self.max_pending_rows,
                )
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mloop-prediction-log", daemon=True
                )
                self._thread.start()
            if self._pending_rows >= self.flush_rows:
                self._lock.notify()

    def warm_up(self) -> None:
        """Load what writing a segment needs (pyarrow's Parquet writer, the stores) now:
        the first flush under traffic would otherwise import for ~1 s, holding the GIL."""
        import importlib

        from mloop.store import get_artifacts, get_store

        for module in ("pyarrow.compute", "pyarrow.parquet"):
            importlib.import_module(module)
        get_artifacts()
        get_store()

    def flush(self) -> int:
        """Write every pending row now; return how many rows were written."""
        with self._lock:
            batch, self._pending, self._pending_rows = self._pending, [], 0
        return self._write(batch)

    def close(self) -> None:
        """Flush what is pending and stop the background thread."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.flush()

    def __enter__(self) -> PredictionLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    waited = _monotonic() - self._first_pending
                    if self._pending_rows >= self.flush_rows or (
                        self._pending and waited >= self.flush_seconds
                    ):
                        break
                    timeout = self.flush_seconds - waited if self._pending else self.flush_seconds
                    self._lock.wait(timeout=max(timeout, 0.01))
                if self._closed:
                    return
                batch, self._pending, self._pending_rows = self._pending, [], 0
            self._write(batch)

    def _write(self, batch: list[_Entry]) -> int:
        if not batch:
            return 0
        with self._write_lock:
            try:
                written = _write_segments(batch)
            except Exception as exc:  # keep serving; retry these rows with the next flush
                self.failed_writes += 1
                _log.error("prediction log: writing %d batches failed: %s", len(batch), exc)
                with self._lock:
                    self._pending[:0] = batch
                    self._pending_rows += sum(entry.rows for entry in batch)
                    if len(self._pending) == len(batch):
                        self._first_pending = _monotonic()
                return 0
            self.written_rows += written
            return written


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
    except (pa.ArrowInvalid, pa.ArrowTypeError):
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


def _group_table(entries: list[_Entry]) -> pa.Table:
    """One Arrow table of the entries of one model version (columns in first-seen order)."""
    import numpy as np
    import pyarrow as pa

    sizes = [entry.rows for entry in entries]
    total = sum(sizes)
    ids: list[Any] = []
    for entry in entries:
        ids.extend(entry.request_ids)
    if not all(type(r) is str for r in ids):
        ids = [str(r) for r in ids]
    ts = _per_row([e.ts for e in entries], sizes, _ts_ms, (int, np.integer), "int64")
    latency = _per_row(
        [e.latency_ms for e in entries],
        sizes,
        lambda v, n: np.broadcast_to(np.asarray(v, dtype="float64"), (n,)),
        (int, float, np.integer, np.floating),
        "float64",
    )
    columns: dict[str, Any] = {
        "request_id": pa.array(ids, pa.string()),
        "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "model_name": pa.array([entries[0].model_name] * total, pa.string()),
        "model_version": pa.array([entries[0].model_version] * total, pa.string()),
        "latency_ms": pa.array(latency, pa.float64()),
    }
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


def _per_row(
    values: list[Any], sizes: list[int], expand: Any, scalars: tuple[type, ...], dtype: str
) -> Any:
    """One value per row, from one per entry (``scalars``, repeated) or as ``expand`` reads
    each entry's value."""
    import numpy as np

    if all(isinstance(v, scalars) and not isinstance(v, bool) for v in values):
        return np.repeat(np.asarray(values, dtype=dtype), sizes)  # the serving case
    return np.concatenate([expand(v, n) for v, n in zip(values, sizes, strict=True)])


def _write_segments(batch: list[_Entry]) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from mloop.store import get_artifacts, get_store

    groups: dict[tuple[str, str], list[_Entry]] = {}
    for entry in batch:
        groups.setdefault((entry.model_name, entry.model_version), []).append(entry)
    artifacts = get_artifacts()
    segments = []
    for (model, version), entries in groups.items():
        table = _group_table(entries)
        ts = pc.cast(table["ts"], pa.int64()).to_numpy()
        days = ts // 86_400_000
        for day in np.unique(days):
            part = table.filter(pa.array(days == day)) if len(np.unique(days)) > 1 else table
            stamp = datetime.fromtimestamp(int(day) * 86_400, tz=UTC).strftime("%Y-%m-%d")
            segment_id = new_id()
            key = f"predictions/{model}/{stamp}/{segment_id}.parquet"
            buffer = io.BytesIO()
            pq.write_table(part, buffer, compression="zstd")
            info = artifacts.put_bytes(key, buffer.getvalue())
            part_ts = ts[days == day]
            segments.append(
                {
                    "id": segment_id,
                    "model_name": model,
                    "model_version": version,
                    "rows": part.num_rows,
                    "min_ts": int(part_ts.min()),
                    "max_ts": int(part_ts.max()),
                    "artifact_key": key,
                    "num_bytes": info.size,
                    "created_at": now_ms(),
                }
            )
    store = get_store()
    store.transaction(lambda conn: store.insert_ignore(conn, PredictionSegment.__table__, segments))
    return sum(int(s["rows"]) for s in segments)
