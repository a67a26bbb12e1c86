"""A sliding-window limit on login attempts per user and per client address."""

from __future__ import annotations

import threading
import time
from collections import deque

from mloop.server.auth.errors import TooManyRequests


class AttemptLimiter:
    """At most ``per_user`` attempts per user and ``per_address`` per address in ``window`` s."""

    def __init__(self, per_user: int = 5, per_address: int = 20, window: float = 60.0) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _hit(self, key: str, limit: int, now: float) -> int:
        """Record an attempt; the seconds to wait when ``limit`` is already reached, else 0."""
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= limit:
            return int(times[0] + self.window - now) + 1
        times.append(now)
        return 0

    def check(self, user: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 100_000:  # bounded memory under a spray of names
                self._seen.clear()
            wait = max(
                self._hit(f"u:{user}", self.per_user, now),
                self._hit(f"a:{address}", self.per_address, now),
            )
        if wait:
            raise TooManyRequests(
                f"too many login attempts for this user or from this address; retry in {wait} s.",
                retry_after=wait,
            )
