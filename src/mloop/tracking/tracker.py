"""Process-wide tracking state for one metadata store: write-behind buffers and checks.

The fluent API and :class:`~mloop.tracking.client.TrackingClient` both log through a
:class:`Tracker`, so values are validated once, params stay immutable, and one
background writer batches every value of the process.
"""

from __future__ import annotations

import numbers
import os
import re
import threading
from collections.abc import Collection
from pathlib import Path
from time import time_ns
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.config import get_settings, on_settings_change
from mloop.core.errors import Conflict, InvalidInput
from mloop.store import get_artifacts, get_remote, get_store
from mloop.store.remote import RemoteArtifacts, RemoteStore
from mloop.tracking import runs
from mloop.tracking.system_tags import canonical
from mloop.tracking.writer import Writer

if TYPE_CHECKING:
    from mloop.store.artifacts import ArtifactStore
    from mloop.store.db import MetadataStore

_KEY = re.compile(r"^[\w\-. :/]+$")
MAX_KEY = 250
MAX_PARAM = 6000


def check_key(key: Any, what: str) -> str:
    """A valid metric, param or tag name, or an InvalidInput naming the problem."""
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"{what} name {key!r} must be a non-empty string.")
    if len(key) > MAX_KEY:
        raise InvalidInput(
            f"{what} name {key[:40]!r}… is {len(key)} characters; the limit is {MAX_KEY}."
        )
    if not _KEY.match(key) or ".." in key.split("/") or key.startswith("/"):
        raise InvalidInput(
            f"{what} name {key!r} has characters mloop does not accept; use letters, digits, "
            "'_', '-', '.', ' ', ':' and '/'."
        )
    return key


def as_float(key: str, value: Any) -> float:
    """The metric value as a float (NaN and infinities allowed), or an InvalidInput."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # numpy scalars and 0-d arrays
        return as_float(key, value.item())
    raise InvalidInput(
        f"metric {key!r} got {value!r} ({type(value).__name__}); metric values must be numbers. "
        "Log text with set_tag or log_param instead."
    )


def as_step(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise InvalidInput(f"step {value!r} must be an integer.")


def as_timestamp(value: Any) -> int:
    """A metric timestamp in epoch milliseconds (None means now), or an InvalidInput."""
    if value is None:
        return now_ms()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise InvalidInput(
        f"timestamp {value!r} must be an integer number of milliseconds since the epoch, "
        "e.g. int(time.time() * 1000)."
    )


class Tracker:
    """Validated, buffered logging into one metadata store."""

    def __init__(self, store: MetadataStore | RemoteStore) -> None:
        settings = get_settings()
        self.store = store
        self.writer = Writer(store, settings.flush_interval, settings.heartbeat_interval)
        self.spill_dir = str(Path(settings.home) / "unflushed")
        self._keys: set[str] = set()
        self._params: dict[str, dict[str, str]] = {}
        self._params_lock = threading.Lock()
        self._artifacts: ArtifactStore | RemoteArtifacts | None = None

    @property
    def remote(self) -> bool:
        """Whether this tracker works through an mloop server (``tracking_uri``)."""
        return isinstance(self.store, RemoteStore)

    @property
    def artifacts(self) -> ArtifactStore | RemoteArtifacts:
        if self._artifacts is None:
            if isinstance(self.store, RemoteStore):
                self._artifacts = RemoteArtifacts(self.store, before=self.flush)
            else:
                self._artifacts = get_artifacts()
        return self._artifacts

    # -- values ------------------------------------------------------------------------

    def log_metric(
        self, run_id: str, key: str, value: Any, step: Any = None, timestamp: int | None = None
    ) -> None:
        # the hot path: each check is one type test for the common types
        if key not in self._keys:
            check_key(key, "metric")
            self._keys.add(key)
        if type(value) is not float:
            value = as_float(key, value)
        if step is None:
            step = 0
        elif type(step) is not int:
            step = as_step(step)
        if timestamp is None:
            timestamp = time_ns() // 1_000_000
        elif type(timestamp) is not int:
            timestamp = as_timestamp(timestamp)
        self.writer.metric((run_id, key, value, step, timestamp))

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        check_key(key, "param")
        text = str(value)
        if len(text) > MAX_PARAM:
            raise InvalidInput(
                f"param {key!r} is {len(text)} characters long; the limit is {MAX_PARAM}. "
                "Log long values with log_text or log_dict."
            )
        with self._params_lock:
            known = self._known_params(run_id)
            if key in known:
                if known[key] != text:
                    raise Conflict(
                        f"param {key!r} of run {run_id} is already {known[key]!r}; params are immutable, "
                        f"so {text!r} cannot replace it. Log it under another name, or start a new run."
                    )
                return
            known[key] = text
        self.writer.param((run_id, key, text))

    def _known_params(self, run_id: str) -> dict[str, str]:
        known = self._params.get(run_id)
        if known is None:
            known = self._params[run_id] = runs.params_of(self.store, run_id)
        return known

    def new_run(self, run_id: str) -> None:
        """A run this process just created has no params yet: no need to read them."""
        with self._params_lock:
            self._params.setdefault(run_id, {})

    def forget_params(self, run_id: str) -> None:
        with self._params_lock:
            self._params.pop(run_id, None)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set a tag (MLflow's system tag names are stored as mloop's; see system_tags)."""
        key = canonical(check_key(key, "tag"))
        self.writer.tag((run_id, key, str(value)))

    def flush(self) -> None:
        self.writer.flush()

    def raise_conflicts(self, run_ids: Collection[str] | None = None) -> None:
        """Raise a Conflict for params of ``run_ids`` (all: None) refused at a flush.

        In one process a changed param is refused at the call; when another process stored
        the param first, the difference shows only when the batch is written: the next
        ``end_run`` of the run (or ``flush()``) raises it, so the caller always sees it.
        """
        messages = self.writer.take_conflicts(run_ids)
        if messages:
            for run_id in run_ids if run_ids is not None else list(self._params):
                self.forget_params(run_id)  # read the stored values again at the next call
            raise Conflict(
                "; ".join(messages)
                + ". Params are immutable: log the new value under another name, or start a "
                "new run."
            )

    def close(self) -> None:
        self.writer.close(spill_dir=self.spill_dir)


_lock = threading.Lock()
_trackers: dict[tuple[int, str], Tracker] = {}


def get_tracker() -> Tracker:
    """The tracker of the configured metadata store in this process."""
    settings = get_settings()
    key = (os.getpid(), settings.tracking_uri or settings.db_url)
    tracker = _trackers.get(key)
    if tracker is None:
        with _lock:
            tracker = _trackers.get(key)
            if tracker is None:
                tracker = _trackers[key] = Tracker(get_remote() or get_store())
    return tracker


def close_all() -> None:
    """Flush and stop every tracker of this process."""
    with _lock:
        trackers = [t for (pid, _), t in _trackers.items() if pid == os.getpid()]
        _trackers.clear()
    for tracker in trackers:
        tracker.close()


on_settings_change(close_all)
