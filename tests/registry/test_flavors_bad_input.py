"""Bad input to every flavor is one clear error naming the model, the field or the
package, and the fix: a tensor of the wrong shape or dtype, a missing model file, code
that fails to import, a package that is missing or installed at another version."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.core.errors import InvalidInput, NotFound
from mloop.registry.flavors import environment
from mloop.server.serving import create_app
from mloop.store import get_artifacts
from tests.serving.conftest import running

torch = pytest.importorskip("torch")

NET = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return self.linear(x / 1000)
"""


def _rows() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({"distance": rng.uniform(100, 3000, 200), "hour": rng.integers(5, 23, 200)})


def _net(folder: Path) -> Any:
    (folder / "net.py").write_text(NET)
    spec = importlib.util.spec_from_file_location("bad_input_net", folder / "net.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    return module.Net()


def _log_all(folder: Path) -> dict[str, str]:
    """``{flavor: uri}`` of one small model per flavor."""
    X = _rows()
    y = (X["hour"] > 14).astype(int)
    (folder / "rule.py").write_text(
        "class Rule:\n    def predict(self, frame):\n        return frame['hour'].to_numpy() > 14\n"
    )
    models: dict[str, tuple[Any, dict[str, Any]]] = {
        "sklearn": (LogisticRegression().fit(X, y), {}),
        "code": (str(folder / "rule.py"), {}),
        "xgboost": (xgboost.train({}, xgboost.DMatrix(X, label=y), 3), {}),
        "onnx": (LogisticRegression().fit(X, y), {"flavor": "onnx"}),
        "pytorch": (_net(folder), {"code": str(folder / "net.py")}),
    }
    for name, (model, options) in models.items():
        with mloop.start_run():
            mloop.log_model(
                model, "model", registered_model_name=name, input_example=X.head(5), **options
            )
    return {name: f"models:/{name}/1" for name in models}


def test_a_tensor_of_the_wrong_shape_or_dtype_names_the_model_and_the_fix(tmp_path: Path) -> None:
    uris = _log_all(tmp_path)
    net = mloop.load_model(uris["pytorch"])
    with pytest.raises(InvalidInput, match=r"models:/pytorch/1: the input has shape \[4, 3\]"):
        net.predict(torch.zeros(4, 3))
    with pytest.raises(InvalidInput, match=r"dtype int64, the model takes float32.*\.to\("):
        net.predict(torch.zeros(4, 2, dtype=torch.int64))
    onnx = mloop.load_model(uris["onnx"])
    with pytest.raises(InvalidInput, match=r"models:/onnx/1: the input has shape \[4, 3\]"):
        onnx.predict(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(InvalidInput, match=r"models:/onnx/1: field 'hour' has dtype"):
        onnx.predict(_rows().assign(hour="late"))


def test_the_model_server_answers_4xx_naming_the_field_of_a_wrong_dtype(tmp_path: Path) -> None:
    uris = _log_all(tmp_path)
    for name in ("pytorch", "onnx", "xgboost"):
        app = create_app(uris[name], log=False, watch=False)
        with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            body = {"records": [{"distance": 500.0, "hour": "late"}]}
            response = client.post(f"/v1/models/{name}/predict", json=body)
            assert 400 <= response.status_code < 500, (name, response.text)
            assert "hour" in response.text, (name, response.text)


def test_a_missing_model_file_names_the_model_the_file_and_the_fix(tmp_path: Path) -> None:
    uris = _log_all(tmp_path)
    root = Path(str(get_artifacts().root))
    files = {
        "sklearn": "model.skops",
        "xgboost": "model.ubj",
        "onnx": "model.onnx",
        "pytorch": "model.safetensors",
        "code": "code/model.py",
    }
    for flavor, file in files.items():
        os.remove(root / f"{mloop.registry.get_version(flavor, 1).source}/{file}")
        with pytest.raises(NotFound) as caught:
            mloop.load_model(uris[flavor])
        message = str(caught.value)
        assert message.startswith(f"model models:/{flavor}/1: its file {file!r} is missing"), (
            message
        )
        assert "log and register the model again" in message


def test_code_that_fails_to_import_names_the_model_and_the_error(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(NET.replace("import torch\n", "import torch\n1 / 0\n", 1))
    net = _net(tmp_path)
    with (
        pytest.raises(InvalidInput, match=r"model 'model': its code failed to import"),
        mloop.start_run(),
    ):
        mloop.log_model(net, "model", code=str(tmp_path / "broken.py"))


def test_a_package_that_is_not_installed_is_named_with_its_logged_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uris = _log_all(tmp_path)
    onnxruntime_version = metadata.version("onnxruntime")
    torch_version = metadata.version("torch")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime fails
    with pytest.raises(
        InvalidInput,
        match=re.escape(
            "models:/onnx/1 is an ONNX model and onnxruntime is not installed; install it: "
            f"pip install 'onnxruntime=={onnxruntime_version}'"
        ),
    ):
        mloop.load_model(uris["onnx"])
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(InvalidInput, match=re.escape(f"pip install 'torch=={torch_version}'")):
        mloop.load_model(uris["pytorch"])


def test_a_package_at_another_version_is_refused_where_exact_versions_are_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uris = _log_all(tmp_path)
    logged = metadata.version("xgboost")
    real = metadata.version

    class OtherXgboost:
        """The installed versions as they are, but xgboost at another version."""

        PackageNotFoundError = metadata.PackageNotFoundError

        @staticmethod
        def version(name: str) -> str:
            return "0.90" if name == "xgboost" else real(name)

    monkeypatch.setattr(environment, "metadata", OtherXgboost)
    assert mloop.load_model(uris["xgboost"]).flavor == "xgboost"  # a warning by default
    monkeypatch.setenv("MLOOP_MODELS_EXACT_VERSIONS", "true")
    with pytest.raises(InvalidInput) as caught:
        mloop.load_model(uris["xgboost"])
    assert str(caught.value) == (
        f"model models:/xgboost/1 was logged with xgboost=={logged}, and this host has xgboost "
        "0.90 while exact versions are required ([models] exact_versions); install it: "
        f"pip install 'xgboost=={logged}', or serve the model from its own environment: "
        "mloop serve <uri> --env-manager venv."
    )
    assert mloop.load_model(uris["sklearn"]).flavor == "sklearn"  # its packages match
    monkeypatch.setenv("MLOOP_MODELS_EXACT_VERSIONS", "maybe")
    with pytest.raises(Exception, match="MLOOP_MODELS_EXACT_VERSIONS = 'maybe' is not a boolean"):
        mloop.load_model(uris["sklearn"])
