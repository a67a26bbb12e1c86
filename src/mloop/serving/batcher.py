"""Adaptive micro-batching: concurrent requests share one ``predict`` call.

Requests wait in a bounded queue. One worker takes everything queued (up to
``max_batch_rows``) and runs it in a thread as one batch; while it runs, new requests
gather for the next batch. When requests arrive closer than ``max_wait_ms`` apart, the
worker waits up to that long until as many requests queue as were in flight at once
lately (clients waiting for an answer come back together); an idle server (a lone
request) runs at once, so single requests are never delayed. A full queue answers
:class:`~mloop.serving.errors.Overloaded` (429) instead of growing.

Batches run in a worker thread, or on the event loop itself when recent batches took less
than ``inline_ms`` and no backlog is waiting: for a small model the hand-off to a thread
(and the GIL ping-pong that follows) costs more than the batch, and the loop is blocked
for less than a millisecond or two. A batch that turns out slow sends the next ones back
to the thread, so a slow model never stalls health checks or the reading of new requests.

>>> batcher = MicroBatcher(run_batch, max_batch_rows=256, max_wait_ms=1.0, max_queue=1024)
>>> result = await batcher.submit(request_columns, rows=1)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mloop.serving.errors import Overloaded, RequestTimeout, ShuttingDown


@dataclass
class Item:
    """One request in the queue."""

    payload: Any
    rows: int
    future: asyncio.Future[Any]
    arrived: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Gathers queued requests into batches for ``run_batch(items) -> results``."""

    def __init__(
        self,
        run_batch: Callable[[Sequence[Item]], list[Any]],
        max_batch_rows: int = 256,
        max_wait_ms: float = 1.0,
        max_queue: int = 1024,
        name: str = "model",
        on_batch: Callable[[int], None] | None = None,
        inline_ms: float = 0.0,
    ) -> None:
        self.run_batch = run_batch
        self.max_batch_rows = max(1, int(max_batch_rows))
        self.max_wait = max(0.0, float(max_wait_ms)) / 1000
        self.max_queue = max(1, int(max_queue))
        self.name = name
        self.on_batch = on_batch
        self._queue: deque[Item] = deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mloop-batch-{name}")
        self._gap = 1.0  # moving average of the time between arrivals (seconds)
        self._last_gap = 1.0  # time between the last two arrivals
        self._last_arrival = 0.0
        self._busy = False
        self._closing = False
        self.batches = 0
        self._inflight = 0  # submitted and not answered yet
        self._window_peak = 0  # most requests in flight at once in the current second
        self._recent_peak = 0  # ... and in the previous second
        self._window_start = 0.0
        self.waits = 0  # times the worker waited for a batch to fill
        self.inline = max(0.0, float(inline_ms)) / 1000
        self.inline_batches = 0  # batches run on the event loop
        self._thread_cpu: float | None = None  # moving average: CPU s of a batch in the thread
        self._inline_wall: float | None = None  # ... and wall s of a batch run on the loop
        self._since_probe = 0  # thread batches since inline was last found too slow
        self._filled: asyncio.Future[None] | None = None  # resolved when the batch is full
        self._fill_target = 0

    def _finished(self, _future: asyncio.Future[Any]) -> None:
        self._inflight -= 1

    @property
    def depth(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._work())

    async def submit(self, payload: Any, rows: int, timeout: float | None = None) -> Any:
        """Queue one request and wait for its result (raises what its batch raised for it)."""
        if self._closing:
            raise ShuttingDown("the server is shutting down; send the request to another replica.")
        if len(self._queue) >= self.max_queue:
            raise Overloaded(
                f"model {self.name!r} has {len(self._queue)} requests waiting (the limit is "
                f"{self.max_queue}); retry after a moment or add replicas."
            )
        self.start()
        now = time.perf_counter()
        if self._last_arrival:
            self._last_gap = min(now - self._last_arrival, 1.0)
            self._gap = 0.8 * self._gap + 0.2 * self._last_gap
        self._last_arrival = now
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(Item(payload, rows, future, now))
        self._inflight += 1
        future.add_done_callback(self._finished)
        if now - self._window_start > 1.0:  # a new one-second window of the peak
            self._recent_peak, self._window_peak, self._window_start = self._window_peak, 0, now
        self._window_peak = max(self._window_peak, self._inflight)
        assert self._wakeup is not None
        self._wakeup.set()
        if self._filled is not None and len(self._queue) >= self._fill_target:
            _resolve(self._filled)
        if timeout is None:
            return await future
        timer = asyncio.get_running_loop().call_later(timeout, self._expire, future, timeout)
        try:
            return await future
        finally:
            timer.cancel()

    def _expire(self, future: asyncio.Future[Any], timeout: float) -> None:
        if not future.done():  # the worker skips it if it is still queued
            future.set_exception(
                RequestTimeout(
                    f"model {self.name!r} did not answer within {timeout:g} s; retry, or raise "
                    "the server's request timeout."
                )
            )

    def _expected(self) -> int:
        """How many requests are in flight at once lately (closed-loop clients come back)."""
        return max(self._recent_peak, self._window_peak)

    async def _fill(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait (at most ``max_wait``) until as many requests queue as were in flight lately.

        One future and one timer per wait (``submit`` resolves the future when the queue is
        long enough): ``asyncio.wait_for`` would make a task per wake-up, which costs as
        much as the rest of a one-row batch."""
        target = min(self._expected(), self.max_batch_rows)
        if len(self._queue) >= target:
            return
        self.waits += 1
        filled = loop.create_future()
        self._filled, self._fill_target = filled, target
        timer = loop.call_later(self.max_wait, _resolve, filled)
        try:
            await filled
        finally:
            timer.cancel()
            self._filled = None

    def _take(self) -> list[Item]:
        items: list[Item] = []
        rows = 0
        while self._queue:
            item = self._queue[0]
            if item.future.done():  # timed out or cancelled while waiting
                self._queue.popleft()
                continue
            if items and rows + item.rows > self.max_batch_rows:
                break
            items.append(self._queue.popleft())
            rows += item.rows
        return items

    def _runs_inline(self) -> bool:
        """Run on the loop: batches are known to be quick and no backlog is waiting.

        A batch in the thread is judged by its CPU time (its wall time includes waiting for
        the GIL), one on the loop by its wall time (which includes any blocking I/O). When
        inline batches were too slow, inline is tried again after 256 batches in the thread.
        """
        if not self.inline or self._queue:
            return False
        if self._inline_wall is not None:
            return self._inline_wall < self.inline
        return self._thread_cpu is not None and self._thread_cpu < self.inline

    def _timed(self, items: list[Item]) -> tuple[list[Any], float, float]:
        """Results of one batch, with its wall and CPU seconds (of this thread)."""
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            results = self.run_batch(items)
        except Exception as exc:  # the batch function failed as a whole
            results = [exc] * len(items)
        return results, time.perf_counter() - start, time.thread_time() - cpu

    def _note(self, inline: bool, wall: float, cpu: float) -> None:
        if inline:
            last = self._inline_wall
            self._inline_wall = wall if last is None else 0.7 * last + 0.3 * wall
            return
        last = self._thread_cpu
        self._thread_cpu = cpu if last is None else 0.7 * last + 0.3 * cpu
        if self._inline_wall is not None and self._inline_wall >= self.inline:
            self._since_probe += 1
            if self._since_probe >= 256:  # try the loop again (the model may have changed)
                self._inline_wall, self._since_probe = None, 0

    async def _work(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wakeup.clear()
                if self._closing:
                    return
                await self._wakeup.wait()
                continue
            if self.max_wait and self._last_gap < self.max_wait:
                await self._fill(loop)
            items = self._take()
            if not items:
                continue
            self._busy = True
            inline = self._runs_inline()
            try:
                if inline:
                    self.inline_batches += 1
                    results, wall, cpu = self._timed(items)
                else:
                    results, wall, cpu = await loop.run_in_executor(
                        self._executor, self._timed, items
                    )
                self._note(inline, wall, cpu)
            except Exception as exc:  # the executor refused (shutting down)
                results = [exc] * len(items)
            finally:
                self._busy = False
            self.batches += 1
            if self.on_batch is not None:
                self.on_batch(sum(item.rows for item in items))
            for item, result in zip(items, results, strict=True):
                if item.future.done():
                    continue
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)
            await asyncio.sleep(0)  # let the answered requests respond and new ones arrive

    async def drain(self, timeout: float = 30.0) -> None:
        """Stop taking new requests and wait until the queued ones are answered."""
        self._closing = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
        self._executor.shutdown(wait=True)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
