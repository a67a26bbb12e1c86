"""Writing the prediction log: a buffer flushed by a background thread into Parquet segments."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.core.ids import new_id
from mloop.core.log import get_logger
from mloop.store.predictions._tables import (
    Block,
    Entry,
    block_columns,
    column_kind,
    group_table,
)
from mloop.store.predictions._times import monotonic as _monotonic
from mloop.store.schema.predictions import PredictionSegment

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_log = get_logger("mloop.store.predictions")


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
        self._pending: list[Entry | Block] = []
        self._blocks: dict[tuple[Any, ...], Block] = {}  # the pending blocks still growing
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
        import numpy as np

        when = now_ms() if ts is None else ts
        per_row = isinstance(latency_ms, np.ndarray) and latency_ms.ndim == 1
        if per_row and (len(latency_ms) != rows or latency_ms.dtype.kind not in "iuf"):
            raise InvalidInput(
                f"prediction log of {model_name!r}: latency_ms has {len(latency_ms)} values of "
                f"dtype {latency_ms.dtype} for {rows} request ids; give one number per row, "
                "or one for the batch."
            )
        numbers = (int, float, np.integer, np.floating)
        columns = None
        if (
            type(when) is int
            and (per_row or isinstance(latency_ms, numbers))
            and type(request_ids) is list
        ):
            columns = block_columns(("input", inputs), ("feature", features), ("output", outputs))
        with self._lock:
            if not self._pending:
                self._first_pending = _monotonic()
            if columns is None:
                entry = Entry(
                    str(model_name),
                    str(model_version),
                    request_ids,
                    inputs,
                    outputs,
                    latency_ms,
                    features,
                    when,
                    rows,
                )
                self._pending.append(entry)
            else:
                shape = tuple((name, column_kind(values)) for name, values in columns.items())
                key = (str(model_name), str(model_version), per_row, shape)
                block = self._blocks.get(key)
                if block is None:
                    block = Block(str(model_name), str(model_version), per_row)
                    self._blocks[key] = block
                    self._pending.append(block)
                block.add(
                    request_ids, when, latency_ms if per_row else float(latency_ms), columns, rows
                )
            self._pending_rows += rows
            while self._pending_rows > self.max_pending_rows and len(self._pending) > 1:
                dropped = self._pending.pop(0)
                if isinstance(dropped, Block):
                    self._blocks = {k: b for k, b in self._blocks.items() if b is not dropped}
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
            self._blocks = {}
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
                self._blocks = {}
            self._write(batch)

    def _write(self, batch: list[Entry | Block]) -> int:
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


def _write_segments(batch: list[Entry | Block]) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from mloop.store import get_artifacts, get_store

    tables: list[tuple[str, str, pa.Table]] = []
    groups: dict[tuple[str, str], list[Entry]] = {}
    for item in batch:
        if isinstance(item, Block):
            tables.append((item.model_name, item.model_version, item.table()))
        else:
            groups.setdefault((item.model_name, item.model_version), []).append(item)
    tables += [(model, version, group_table(items)) for (model, version), items in groups.items()]
    artifacts = get_artifacts()
    segments = []
    for model, version, table in tables:
        ts = pc.cast(table["ts"], pa.int64()).to_numpy()
        days = ts // 86_400_000
        for day in np.unique(days):
            part = table.filter(pa.array(days == day)) if len(np.unique(days)) > 1 else table
            stamp = datetime.fromtimestamp(int(day) * 86_400, tz=UTC).strftime("%Y-%m-%d")
            segment_id = new_id()
            key = f"predictions/{model}/{stamp}/{segment_id}.parquet"
            sink = pa.BufferOutputStream()
            pq.write_table(part, sink, compression="zstd")
            info = artifacts.put_bytes(key, sink.getvalue().to_pybytes())
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
