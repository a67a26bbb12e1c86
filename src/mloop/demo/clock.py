"""The replay clock: the server and the feature store live at the replayed time.

Replaying April–December 2013 in a few minutes needs a clock that the replay moves.
The server in the demo reads it in two places, through public extension points:

- :class:`ClockedLogWriter` stamps each logged prediction with the replayed time (the
  prediction log is then in 2013, so monitoring windows are replayed months);
- :class:`ClockedFeatures` asks the online store for values *as of* the replayed time
  (ttl checks) and counts every value whose event time lies after it — the replay's
  proof that no value from the future was served (the count must stay 0).

>>> clock = ReplayClock(datetime(2013, 4, 1, 9, tzinfo=UTC))
>>> clock.advance_to(datetime(2013, 4, 1, 10, tzinfo=UTC)); clock.now()
datetime.datetime(2013, 4, 1, 10, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.store.predictions import PredictionLogWriter


class ReplayClock:
    """A clock that only moves forward, when the replay says so."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def now_ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    def advance_to(self, moment: datetime) -> None:
        moment = _aware(moment)
        with self._lock:
            if moment < self._now:
                raise InvalidInput(
                    f"the replay clock cannot go back from {self._now.isoformat()} to "
                    f"{moment.isoformat()}; replay events in time order."
                )
            self._now = moment


class ClockedLogWriter(PredictionLogWriter):
    """A prediction log writer whose "now" is the replay clock."""

    def __init__(self, clock: ReplayClock, **options: Any) -> None:
        super().__init__(**options)
        self.clock = clock

    def log(
        self,
        model_name: str,
        model_version: str | int,
        request_ids: Any,
        inputs: Any,
        outputs: Any,
        latency_ms: Any,
        features: Any = None,
        ts: Any = None,
    ) -> None:
        stamp = self.clock.now_ms() if ts is None else ts
        super().log(
            model_name, model_version, request_ids, inputs, outputs, latency_ms, features, stamp
        )


class ClockedFeatures:
    """A feature store seen at the replay clock's time, counting what it serves."""

    def __init__(self, store: Any, clock: ReplayClock) -> None:
        self.store = store
        self.clock = clock
        self.statuses: Counter[str] = Counter()
        self.future_values = 0
        self.lookups = 0
        self._lock = threading.Lock()

    def get_online_features(self, entity_rows: Any, features: Any = None, **options: Any) -> Any:
        now = self.clock.now()
        options["now"] = now
        response = self.store.get_online_features(entity_rows, features, **options)
        limit = int(now.timestamp() * 1_000_000)
        future = sum(
            1
            for times in response.event_times.values()
            for t in times
            if t is not None and t > limit
        )
        with self._lock:
            self.lookups += len(response)
            self.future_values += future
            for values in response.statuses.values():
                self.statuses.update(values)
        return response

    def close(self) -> None:
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "lookups": self.lookups,
                "future_values": self.future_values,
                "statuses": dict(self.statuses),
            }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
