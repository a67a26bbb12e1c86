"""The scheduler: a long-running loop that fires due schedules and runs queued triggers.

>>> Scheduler(poll_interval=5).run_forever()        # what `mloop scheduler` runs

Each tick queues the due schedules' triggers, then runs queued triggers one at a time
(oldest first), each in its own ``mloop run`` process by default: a crashing or leaking
pipeline cannot take the scheduler down, and edited project code is picked up. On start it marks FAILED the triggers a previous scheduler on this host
left running when it died, instead of running them again. SIGTERM and Ctrl-C stop it
after the run in progress.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import MloopError
from mloop.core.log import get_logger
from mloop.pipelines.run_requests import (
    FAILED,
    SUCCEEDED,
    RunRequest,
    claim_next,
    finish_run_request,
    get_run_request,
    recover,
)
from mloop.pipelines.schedule import fire_due
from mloop.pipelines.session import NodeFailed, run

__all__ = ["Scheduler", "run_request"]

log = get_logger("mloop.pipelines")


class Scheduler:
    """Fires schedules and runs triggers until stopped."""

    def __init__(
        self,
        poll_interval: float = 5.0,
        on_event: Callable[[str, RunRequest], None] | None = None,
        isolated: bool = True,
    ) -> None:
        self.poll_interval = poll_interval
        self.isolated = isolated
        self.on_event = on_event or (lambda _event, _trigger: None)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> list[RunRequest]:
        """Queue due schedules, then run every queued run request; return the finished ones."""
        for fired in fire_due():
            self.on_event("queued", fired)
        finished: list[RunRequest] = []
        while not self._stop.is_set():
            claimed = claim_next()
            if claimed is None:
                break
            self.on_event("started", claimed)
            done = run_request(claimed, isolated=self.isolated)
            self.on_event(done.status, done)
            finished.append(done)
        return finished

    def run_forever(self, max_ticks: int | None = None) -> None:
        """Tick every ``poll_interval`` seconds until stopped (or ``max_ticks`` ticks)."""
        lost = recover()
        if lost:
            log.warning(
                "marked %d run request(s) FAILED: a previous scheduler stopped mid-run", lost
            )
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


def run_request(item: RunRequest, isolated: bool = True) -> RunRequest:
    """Run a claimed request's pipeline (in a child ``mloop run`` process when ``isolated``)."""
    if isolated:
        status, run_id, error = _run_process(item)
        finish_run_request(item.id, status, run_id, error)
        return get_run_request(item.id)
    try:
        result = run(item.pipeline, params=item.params, env=item.env, runner=item.runner)
    except NodeFailed as exc:
        finish_run_request(item.id, FAILED, exc.result.run_id, str(exc))
    except MloopError as exc:
        finish_run_request(item.id, FAILED, None, str(exc))
    except Exception as exc:
        finish_run_request(item.id, FAILED, None, f"{type(exc).__name__}: {exc}")
    else:
        finish_run_request(item.id, SUCCEEDED, result.run_id, None)
    return get_run_request(item.id)


def _flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _run_process(item: RunRequest) -> tuple[str, str | None, str | None]:
    """``mloop run <pipeline> --json`` in the project folder; (status, run id, error)."""
    import json
    import subprocess
    import sys

    command = [sys.executable, "-m", "mloop", "run", item.pipeline, "--json"]
    for key, value in _flat(item.params).items():
        command += ["--params", f"{key}={json.dumps(value)}"]
    if item.env:
        command += ["--env", item.env]
    if item.runner:
        command += ["--runner", item.runner]
    completed = subprocess.run(
        command, cwd=get_settings().root, capture_output=True, text=True, check=False
    )
    run_id = None
    with contextlib.suppress(ValueError, KeyError, TypeError):
        run_id = json.loads(completed.stdout)["run_id"]
    if completed.returncode == 0:
        return SUCCEEDED, run_id, None
    lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
    error = " ".join(" ".join(lines[-6:]).split()) or f"mloop run exited {completed.returncode}"
    return FAILED, run_id, error
