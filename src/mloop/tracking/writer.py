"""Write-behind logging: calls append to memory, a background thread writes in batches.

``log_metric`` costs a tuple append; a daemon thread drains the buffers every
``flush_interval`` seconds (sooner when they grow large) in one transaction, and sends
heartbeats for the runs this process has open. ``flush()`` drains on demand (``end_run``,
reads of the same run, interpreter exit). A param another process stored first with
another value is kept out and reported: logged at once, and raised as a Conflict by the
next ``end_run`` of its run or ``mloop.flush()`` (see :meth:`Tracker.raise_conflicts`). If the store cannot be written at exit, the
pending values are saved to ``<home>/unflushed/`` and the path is logged: nothing is lost
silently.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.log import get_logger
from mloop.tracking import runs

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mloop.store.db import MetadataStore

log = get_logger("mloop.tracking")

_WAKE_AT = 20_000  # buffered values that wake the flusher early


class Writer:
    """The write-behind buffer of one metadata store in one process."""

    def __init__(
        self, store: MetadataStore, flush_interval: float, heartbeat_interval: float
    ) -> None:
        self.store = store
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        self.params: deque[runs.ParamRow] = deque()
        self.metrics: deque[runs.MetricRow] = deque()
        self.tags: deque[runs.TagRow] = deque()
        self.created: deque[runs.NewRun] = deque()  # new runs, inserted by the next flush
        self.ended: deque[runs.Ended] = deque()  # ends of runs with synchronous=False
        self.alive: set[str] = set()  # runs whose heartbeat this process keeps
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = 0.0
        # params another process stored first, per run, until the caller is told
        self.conflicts: dict[str, list[str]] = {}
        self._conflicts_lock = threading.Lock()

    # -- hot path ----------------------------------------------------------------------

    def metric(self, row: runs.MetricRow) -> None:
        self.metrics.append(row)
        if self._thread is None:
            self._start()
        elif len(self.metrics) > _WAKE_AT:
            self._wake.set()

    def param(self, row: runs.ParamRow) -> None:
        self.params.append(row)
        if self._thread is None:
            self._start()

    def tag(self, row: runs.TagRow) -> None:
        self.tags.append(row)
        if self._thread is None:
            self._start()

    def create_run(self, run: runs.NewRun) -> None:
        """Insert a new run with the next flush (ending a short run is then one transaction)."""
        self.created.append(run)
        if self._thread is None:
            self._start()

    def end_run(self, run_id: str, status: str, end_time: int) -> None:
        """Write a run's end with the next flush, after its values."""
        self.ended.append((run_id, status, end_time))
        if self._thread is None:
            self._start()

    def keep_alive(self, run_id: str) -> None:
        """Send heartbeats for ``run_id`` from this process until :meth:`let_go` (a run that
        a remote client logs to through a server, between its requests)."""
        self.alive.add(run_id)
        if self._thread is None:
            self._start()

    def let_go(self, run_id: str) -> None:
        self.alive.discard(run_id)

    def _buffers(self) -> tuple[deque[Any], ...]:
        """Every buffer, in the order :func:`runs.write_batch` takes them."""
        return (self.params, self.metrics, self.tags, self.created, self.ended)

    def pending(self) -> int:
        return sum(len(buffer) for buffer in self._buffers())

    # -- background --------------------------------------------------------------------

    def _start(self) -> None:
        with self._flush_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="mloop-writer", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
                if time.monotonic() - self._last_beat >= self.heartbeat_interval and self.alive:
                    runs.heartbeat(self.store, sorted(self.alive))
                    self._last_beat = time.monotonic()
            except Exception as exc:  # keep the values and try again on the next tick
                log.warning("tracking write-behind: %s; retrying", exc)

    def flush(self, then: Callable[[Connection], None] | None = None) -> None:
        """Write every buffered value now (values stay buffered if the write fails).

        Returns only when nothing logged before the call is still uncommitted: with empty
        buffers it still takes the lock, to wait for a batch the background thread has
        drained and is writing.
        """
        with self._flush_lock:
            buffers = self._buffers()
            drained = [_drain(buffer) for buffer in buffers]
            if not any(drained):
                if then is not None:
                    self.store.transaction(then)
                return
            params, metrics, tags, created, ended = drained
            try:
                refused = runs.write_batch(self.store, params, metrics, tags, then, created, ended)
            except BaseException:
                for buffer, rows in zip(buffers, drained, strict=True):
                    buffer.extendleft(reversed(rows))
                raise
        with self._conflicts_lock:
            for run_id, message in refused:
                log.error("%s (params are immutable)", message)
                self.conflicts.setdefault(run_id, []).append(message)

    def take_conflicts(self, run_ids: Collection[str] | None = None) -> list[str]:
        """Messages about params of ``run_ids`` (every run: None) refused since last asked."""
        with self._conflicts_lock:
            keys = list(self.conflicts) if run_ids is None else list(run_ids)
            return [message for key in keys for message in self.conflicts.pop(key, [])]

    def close(self, spill_dir: str | None = None) -> None:
        """Stop the thread after a final flush; spill what cannot be written."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        try:
            self.flush()
        except Exception as exc:
            if spill_dir is None or not self.pending():
                raise
            path = self.spill(spill_dir)
            log.error("could not write tracking data (%s); saved it to %s", exc, path)

    def spill(self, folder: str) -> str:
        """Save the buffered values as JSON under ``folder`` and empty the buffers."""
        import os

        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{os.getpid()}-{now_ms()}.json")
        payload = {
            "store": self.store.display_url,
            "runs": [{"row": row, "tags": tags} for row, tags in _drain(self.created)],
            "ended": _drain(self.ended),
            "params": _drain(self.params),
            "metrics": _drain(self.metrics),
            "tags": _drain(self.tags),
        }
        with open(path, "w") as stream:
            json.dump(payload, stream)
        return path


def _drain(buffer: deque[Any]) -> list[Any]:
    """Pop everything currently in ``buffer`` (appends racing with this stay for later)."""
    count = len(buffer)
    pop = buffer.popleft
    return [pop() for _ in range(count)]
