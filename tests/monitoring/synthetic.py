"""A small synthetic model world for monitoring and loop tests (fast, deterministic)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import mloop

FEATURES = ["x", "noise", "city"]


def rows(
    n: int,
    seed: int,
    shift: float = 0.0,
    cities: tuple[str, ...] = ("a", "b", "c"),
    cut: float = 0.3,
) -> pd.DataFrame:
    """Features and a label ``y = x + noise > cut`` (``cut`` moves the relationship)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    frame = pd.DataFrame(
        {
            "x": x,
            "noise": rng.normal(size=n),
            "city": pd.Series(rng.choice(list(cities), n), dtype="string"),
        }
    )
    frame["y"] = ((x + rng.normal(0, 0.7, n)) > cut).astype(int)
    return frame


def fit(train: pd.DataFrame) -> object:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    encoder = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), remainder="passthrough"
    )
    return make_pipeline(encoder, LogisticRegression()).fit(train[FEATURES], train["y"])


def register(train: pd.DataFrame, name: str = "m") -> mloop.registry.ModelVersion:
    with mloop.start_run():
        info = mloop.log_model(
            fit(train), "model", registered_model_name=name, input_example=train[FEATURES].head()
        )
    assert info.registered_model_version is not None
    return info.registered_model_version


def log_predictions(
    frame: pd.DataFrame, start: str, version: int = 1, prefix: str = "r", name: str = "m"
) -> list[str]:
    """Serve ``frame`` with ``version`` (10 s apart from ``start``) into the prediction log."""
    from mloop.monitoring import model_outputs
    from mloop.store.predictions import PredictionLogWriter

    model = mloop.load_model(f"models:/{name}/{version}")
    outputs = model_outputs(model, frame[FEATURES])
    ids = [f"{prefix}{i}" for i in range(len(frame))]
    ts = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(np.arange(len(frame)) * 10, unit="s")
    with PredictionLogWriter() as writer:
        writer.log(
            name,
            version,
            ids,
            frame[FEATURES].reset_index(drop=True),
            outputs,
            latency_ms=np.linspace(1, 20, len(frame)),
            ts=ts,
        )
    return ids
