"""Every flavor through the HTTP model server that `mloop serve` runs: the server calls
the flavor's own predict, and a request missing a field is a 4xx naming it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import mloop
from mloop.server.serving import create_app
from tests.serving.conftest import running


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"distance": rng.uniform(100, 3000, 300), "hour": rng.integers(5, 23, 300)})
    return X, (X["hour"] > 15).astype(int).to_numpy()


CODE = textwrap.dedent(
    """
    class Rule:
        def predict(self, frame):
            return (frame["hour"] > 15).astype(int).to_numpy()
    """
)


def _log_every_flavor(folder: Path) -> list[str]:
    X, y = _data()
    rows = X.assign(carrier=np.where(X["distance"] > 1500, "UA", "AA"))
    (folder / "rule.py").write_text(CODE)
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["carrier"]), remainder="passthrough"),
        LogisticRegression(max_iter=500),
    ).fit(rows, y)
    models: dict[str, tuple[object, dict[str, object], pd.DataFrame]] = {
        "code": (str(folder / "rule.py"), {}, X),
        "xgboost": (xgboost.train({}, xgboost.DMatrix(X, label=y), 5), {}, X),
        "lightgbm": (
            lightgbm.train({"verbose": -1}, lightgbm.Dataset(X, label=y), 5),
            {},
            X,
        ),
        "onnx": (pipe, {"flavor": "onnx"}, rows),
    }
    torch = pytest.importorskip("torch")
    (folder / "net.py").write_text(
        "from torch import nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.linear = nn.Linear(2, 1)\n"
        "    def forward(self, x):\n"
        "        return self.linear(x / 1000)\n"
    )
    import importlib.util

    spec = importlib.util.spec_from_file_location("served_net", folder / "net.py")
    assert spec is not None and spec.loader is not None
    net_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(net_module)
    torch.manual_seed(0)
    models["pytorch"] = (net_module.Net(), {"code": str(folder / "net.py")}, X)
    for name, (model, options, example) in models.items():
        with mloop.start_run():
            mloop.log_model(
                model,
                "model",
                registered_model_name=name,
                input_example=example.head(5),
                **options,  # type: ignore[arg-type]
            )
    return list(models)


def test_the_model_server_answers_with_each_flavors_own_predict(tmp_path: Path) -> None:
    X, _ = _data()
    with_carrier = X.assign(carrier=np.where(X["distance"] > 1500, "UA", "AA")).head(6)
    for name in _log_every_flavor(tmp_path):
        rows = with_carrier if name == "onnx" else X.head(6)
        uri = f"models:/{name}/1"
        expected = np.ravel(mloop.load_model(uri).predict(rows))
        app = create_app(uri, log=False, watch=False)
        with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            body = {"records": rows.to_dict(orient="records")}
            response = client.post(f"/v1/models/{name}/predict", json=body)
            assert response.status_code == 200, (name, response.text)
            assert np.allclose(response.json()["predictions"], expected, rtol=0, atol=1e-6), name
            missing = {"records": rows.drop(columns=["hour"]).to_dict(orient="records")}
            refused = client.post(f"/v1/models/{name}/predict", json=missing)
            assert 400 <= refused.status_code < 500, (name, refused.text)
            assert "hour" in refused.text, name
