"""Step 5: replay April–December 2013 through the server, hour by hour, on the replay clock.

For each replayed hour ``t`` (the flights scheduled in that hour, sampled as the first
days of each month):

1. the clock moves to ``t``; the true delays that became known by ``t`` (a day after each
   flight's hour) are posted to ``/v1/feedback``;
2. the online store is advanced to ``t``: the hourly weather view every hour, the carrier
   view at the start of each replayed day (a nightly batch job) — never past ``t``;
3. the hour's flights are posted to ``/v1/models/flight-delays/predict`` in one request.

At the end of each month the remaining labels arrive and ``on_month_end`` runs (the
monitor and the retraining policy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, StoreUnavailable
from mloop.demo.feature_definitions import DAILY_VIEWS, HOURLY_VIEWS, STATIC_VIEWS
from mloop.demo.scenario import MODEL, REQUEST_FEATURES, Scenario

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from mloop.demo.clock import ReplayClock
    from mloop.demo.server import DemoServer
    from mloop.features import FeatureStore

_TICK = timedelta(microseconds=1)  # materialization ends are exclusive: include events at t


@dataclass
class ReplayStats:
    """What the replay sent and what the server answered."""

    hours: int = 0
    days: int = 0
    requests: int = 0
    flights: int = 0
    answered_by_version: dict[str, int] = field(default_factory=dict)
    labels_sent: int = 0
    materializations: int = 0
    materialize_seconds: float = 0.0
    first_answer: dict[str, str] = field(default_factory=dict)  # version -> replay time
    months: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def traffic(flights: pd.DataFrame, scenario: Scenario, deployment: str) -> pd.DataFrame:
    """The sampled flights as requests: fields, prediction hour, label and label time."""
    import pandas as pd

    keep = flights["month"].isin(scenario.replay_months) & (
        flights["day"] <= scenario.days_per_month
    )
    rows = flights[keep]
    hour = pd.to_datetime(rows["time_hour"], utc=True)
    scheduled = hour + pd.to_timedelta(rows["minute"], unit="min")
    frame = pd.DataFrame(
        {
            "request_id": [f"{deployment}-{i}" for i in rows.index],
            "flight": (rows["carrier"] + rows["flight"].astype(str)).to_numpy(),
            "origin": rows["origin"].to_numpy(),
            "carrier": rows["carrier"].to_numpy(),
            "tailnum": rows["tailnum"].to_numpy(),
            "dest": rows["dest"].to_numpy(),
            "hour": rows["hour"].to_numpy(),
            "distance": rows["distance"].to_numpy(),
            "scheduled": scheduled.dt.strftime("%Y-%m-%dT%H:%MZ").to_numpy(),
            "month": rows["month"].to_numpy(),
            "day": rows["day"].to_numpy(),
            "at": hour.to_numpy(),
            "label": (rows["dep_delay"] >= 15).astype("float64").where(rows["dep_delay"].notna()),
            "label_at": (hour + pd.Timedelta(hours=scenario.label_delay_hours)).to_numpy(),
        }
    )
    return frame.sort_values(["at", "request_id"], kind="stable", ignore_index=True)


def request_body(hour_rows: pd.DataFrame) -> dict[str, Any]:
    """One prediction request for the flights of an hour (JSON-ready, nulls for missing)."""
    fields = ["flight", *REQUEST_FEATURES, "tailnum", "dest", "scheduled"]
    frame = hour_rows[fields].astype(object)
    frame = frame.where(frame.notna(), None)
    records = frame.to_dict("records")
    for record in records:
        record["hour"] = int(record["hour"])
        record["distance"] = float(record["distance"])
    return {"records": records, "request_ids": hour_rows["request_id"].tolist()}


class Replay:
    """Drives the clock, the online store, the feedback and the requests."""

    def __init__(
        self,
        scenario: Scenario,
        server: DemoServer,
        store: FeatureStore,
        clock: ReplayClock,
        client: httpx.Client,
    ) -> None:
        self.scenario = scenario
        self.server = server
        self.store = store
        self.clock = clock
        self.client = client
        self.stats = ReplayStats()
        self._materialized: dict[str, datetime | None] = {}
        self._pending: list[pd.DataFrame] = []

    # -- the online store ------------------------------------------------------------------

    def reset_online(self) -> None:
        """Forget what an earlier replay left in the online store (it may hold later values)."""
        for definition in self.store.list_definitions("feature_view"):
            self.store.online.delete(f"{definition.name}/{definition.version}")

    def materialize(self, views: list[str], until: datetime) -> None:
        """Copy the views' rows with event time ``<= until`` (and after the last copy)."""
        import time

        end = until + _TICK
        started = time.perf_counter()
        for view in views:
            since = self._materialized.get(view)
            if since is not None and since >= end:
                continue
            self.store.materialize(since, end, views=[view])
            self._materialized[view] = end
            self.stats.materializations += 1
        self.stats.materialize_seconds += time.perf_counter() - started

    # -- requests and feedback -------------------------------------------------------------

    def predict(self, hour_rows: pd.DataFrame) -> dict[str, Any]:
        response = self.client.post(f"/v1/models/{MODEL}/predict", json=request_body(hour_rows))
        if response.status_code != 200:
            raise StoreUnavailable(
                f"the demo's model server answered {response.status_code} for the flights of "
                f"{self.clock.now().isoformat()}: {response.text[:300]}"
            )
        answer: dict[str, Any] = response.json()
        versions = answer["model_version"]
        versions = versions if isinstance(versions, list) else [versions] * len(hour_rows)
        for version in versions:
            self.stats.answered_by_version[str(version)] = (
                self.stats.answered_by_version.get(str(version), 0) + 1
            )
            self.stats.first_answer.setdefault(str(version), self.clock.now().isoformat())
        self.stats.requests += 1
        self.stats.flights += len(hour_rows)
        labelled = hour_rows[hour_rows["label"].notna()]
        if len(labelled):
            self._pending.append(labelled[["request_id", "label", "label_at"]])
        return answer

    def deliver_labels(self, now: datetime) -> int:
        """Post the labels known by ``now`` (their flight's hour + the label delay)."""
        import pandas as pd

        if not self._pending:
            return 0
        pending = pd.concat(self._pending, ignore_index=True)
        due = pending["label_at"] <= pd.Timestamp(now)
        self._pending = [pending[~due]] if (~due).any() else []
        if not due.any():
            return 0
        rows = pending[due]
        body = {
            "request_ids": rows["request_id"].tolist(),
            "labels": [int(v) for v in rows["label"]],
            "ts": int(now.timestamp() * 1000),
        }
        response = self.client.post("/v1/feedback", json=body)
        if response.status_code != 200:
            raise StoreUnavailable(
                f"the demo's model server refused the feedback ({response.status_code}): "
                f"{response.text[:300]}"
            )
        self.stats.labels_sent += len(rows)
        return len(rows)

    # -- the whole replay --------------------------------------------------------------------

    def run(
        self,
        requests: pd.DataFrame,
        on_month_end: Callable[[int, datetime, datetime], None],
        on_hour: Callable[[int], None] | None = None,
    ) -> ReplayStats:

        if requests.empty:
            raise InvalidInput("the replay has no flights; check the scenario's months and days.")
        first = requests["at"].iloc[0].to_pydatetime()
        self.reset_online()
        self.clock.advance_to(first)
        self.materialize([*STATIC_VIEWS, *DAILY_VIEWS, *HOURLY_VIEWS], first)
        for month in self.scenario.replay_months:
            start = datetime(2013, month, 1, tzinfo=first.tzinfo)
            end = datetime(2013 + month // 12, month % 12 + 1, 1, tzinfo=first.tzinfo)
            rows = requests[requests["month"] == month]
            day = None
            for _, hour_rows in rows.groupby("at", sort=True):
                moment = hour_rows["at"].iloc[0].to_pydatetime()
                self.clock.advance_to(moment)
                self.deliver_labels(moment)
                local_day = int(hour_rows["day"].iloc[0])
                if local_day != day:  # the flights' own (New York) day
                    day = local_day
                    self.stats.days += 1
                    self.materialize(DAILY_VIEWS, moment)
                self.materialize(HOURLY_VIEWS, moment)
                self.predict(hour_rows)
                self.stats.hours += 1
                if on_hour is not None:
                    on_hour(len(hour_rows))
            self.clock.advance_to(end)
            self.deliver_labels(end)
            self.server.flush()
            self.stats.months.append({"month": month, "flights": len(rows)})
            on_month_end(month, start, end)
        return self.stats
