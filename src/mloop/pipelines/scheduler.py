"""The scheduler: a long-running loop that fires due schedules and runs queued triggers.

>>> Scheduler(poll_interval=5).run_forever()        # what `mloop scheduler` runs

Each tick queues the due schedules' triggers, then runs queued triggers one at a time
(oldest first). On start it marks FAILED the triggers a previous scheduler on this host
left running when it died, instead of running them again. SIGTERM and Ctrl-C stop it
after the run in progress.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from mloop.core.log import get_logger
from mloop.pipelines.schedule import Trigger, claim_next, fire_due, recover, run_trigger

__all__ = ["Scheduler"]

log = get_logger("mloop.pipelines")


class Scheduler:
    """Fires schedules and runs triggers until stopped."""

    def __init__(
        self,
        poll_interval: float = 5.0,
        on_event: Callable[[str, Trigger], None] | None = None,
    ) -> None:
        self.poll_interval = poll_interval
        self.on_event = on_event or (lambda _event, _trigger: None)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> list[Trigger]:
        """Queue due schedules, then run every queued trigger; return the finished triggers."""
        for fired in fire_due():
            self.on_event("queued", fired)
        finished: list[Trigger] = []
        while not self._stop.is_set():
            claimed = claim_next()
            if claimed is None:
                break
            self.on_event("started", claimed)
            done = run_trigger(claimed)
            self.on_event(done.status, done)
            finished.append(done)
        return finished

    def run_forever(self, max_ticks: int | None = None) -> None:
        """Tick every ``poll_interval`` seconds until stopped (or ``max_ticks`` ticks)."""
        lost = recover()
        if lost:
            log.warning("marked %d trigger(s) FAILED: a previous scheduler stopped mid-run", lost)
        previous = self._install_signals()
        ticks = 0
        try:
            while not self._stop.is_set():
                self.tick()
                ticks += 1
                if max_ticks is not None and ticks >= max_ticks:
                    break
                self._stop.wait(self.poll_interval)
        finally:
            self._restore_signals(previous)

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: self.stop())
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
