"""Fixtures of the pipeline tests: one local Ray for the session, runners by name."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """A local Ray (2 CPUs, no dashboard) shared by every Ray test, shut down at the end."""
    ray = pytest.importorskip("ray")
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # Ray's workers inherit it: one thread per task
    try:
        if not ray.is_initialized():
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if previous is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = previous
    yield
    ray.shutdown()


@pytest.fixture(params=["sequential", "parallel", pytest.param("ray", marks=pytest.mark.ray)])
def runner(request: pytest.FixtureRequest) -> str:
    """The runner of a contract test: each test runs on all three."""
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
    return str(request.param)
