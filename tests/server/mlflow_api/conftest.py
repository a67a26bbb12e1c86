"""The ``client`` fixture of these tests (defined with the helpers in calls.py)."""

from tests.server.mlflow_api.calls import client

__all__ = ["client"]
