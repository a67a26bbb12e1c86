"""Write-behind storage of spans and guardrail hit counts.

Callers only append to an in-memory queue (a few hundred nanoseconds); a daemon thread
writes what accumulated in one transaction every ``interval`` seconds, or sooner when a
batch is full. The queue is bounded: when the database cannot keep up, the oldest spans
are dropped and counted (``dropped``), never the caller blocked. Content attributes are
PII-redacted here, off the caller's path, before anything is stored. :func:`flush` writes
everything now (search does it first, and it runs at exit).
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from mloop.core.clock import now_ms
from mloop.genai.tracing.rows import prepare
from mloop.store import get_store
from mloop.store.schema.genai import GuardrailHit, Span

__all__ = ["BatchWriter", "flush_traces", "writer"]

log = logging.getLogger(__name__)

Prepare = Callable[[dict[str, Any]], dict[str, Any]]


class BatchWriter:
    """A bounded queue of span rows and hit counts, written in batches by one thread."""

    def __init__(self, max_queue: int = 100_000, batch: int = 2_000, interval: float = 0.5) -> None:
        self.max_queue = max_queue
        self.batch = batch
        self.interval = interval
        self.dropped = 0
        self.prepare: Prepare | None = None  # applied to each row in the writer thread
        self._spans: deque[dict[str, Any]] = deque()
        self._hits: dict[tuple[str, str, str, str], int] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def put_span(self, row: dict[str, Any]) -> None:
        """Queue one span row (the columns of ``genai_spans``)."""
        with self._lock:
            self._spans.append(row)
            if len(self._spans) > self.max_queue:
                self._spans.popleft()
                self.dropped += 1
                if self.dropped in (1, 1_000, 100_000):
                    log.warning(
                        "the trace store cannot keep up: %d spans dropped so far", self.dropped
                    )
            full = len(self._spans) >= self.batch
        self._ensure_thread()
        if full:
            self._wake.set()

    def add_hits(self, guardrail: str, route: str, user: str, action: str, count: int = 1) -> None:
        """Count ``count`` hits of a guardrail (summed in memory until the next write)."""
        key = (guardrail, route, user, action)
        with self._lock:
            self._hits[key] = self._hits.get(key, 0) + count
        self._ensure_thread()

    def flush(self) -> int:
        """Write everything queued now; returns the number of spans written."""
        with self._write_lock:
            with self._lock:
                spans = list(self._spans)
                self._spans.clear()
                hits = self._hits
                self._hits = {}
            if not spans and not hits:
                return 0
            try:
                if self.prepare is not None:
                    spans = [self.prepare(row) for row in spans]
                self._write(spans, hits)
            except BaseException:
                self._requeue(spans, hits)  # kept for the next attempt, not lost
                raise
            return len(spans)

    def _write(
        self, spans: list[dict[str, Any]], hits: dict[tuple[str, str, str, str], int]
    ) -> None:
        store = get_store()
        at = now_ms()
        hit_rows = [
            {"guardrail": g, "route": r, "user": u, "action": a, "count": n, "last_at": at}
            for (g, r, u, a), n in hits.items()
        ]

        def work(conn: Any) -> None:
            store.insert_ignore(conn, Span.__table__, spans)
            if hit_rows:
                conn.execute(_increment(store.is_sqlite), hit_rows)

        store.transaction(work)

    def _requeue(
        self, spans: list[dict[str, Any]], hits: dict[tuple[str, str, str, str], int]
    ) -> None:
        with self._lock:
            room = max(0, self.max_queue - len(self._spans))
            self.dropped += max(0, len(spans) - room)
            self._spans.extendleft(reversed(spans[len(spans) - room :] if room else []))
            for key, count in hits.items():
                self._hits[key] = self._hits.get(key, 0) + count

    def clear(self) -> None:
        """Forget what is queued (for tests that switch stores)."""
        with self._lock:
            self._spans.clear()
            self._hits = {}
            self.dropped = 0

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name="mloop-trace-writer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        pause = self.interval
        while True:
            self._wake.wait(pause)
            self._wake.clear()
            try:
                self.flush()
                pause = self.interval
            except Exception:  # the writer thread must survive a bad batch or a down store
                if pause == self.interval:  # once per outage, not every half second
                    log.exception("writing spans to the metadata store failed; will retry")
                pause = min(30.0, pause * 2)  # back off while the store is down


def _increment(sqlite: bool) -> Any:
    """Insert hit counts, adding to the stored count of a key that exists (atomic)."""
    if sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    table: Any = GuardrailHit.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["guardrail", "route", "user", "action"],
        set_={"count": table.c.count + stmt.excluded.count, "last_at": stmt.excluded.last_at},
    )


writer = BatchWriter()
writer.prepare = prepare


def flush_traces() -> int:
    """Write the spans still queued now (they are otherwise written within half a second)."""
    return writer.flush()


atexit.register(lambda: _flush_quietly(writer))


def _flush_quietly(batch_writer: BatchWriter) -> None:
    try:
        batch_writer.flush()
    except Exception:
        log.exception("could not write the last spans at exit")
