"""PyTorch: weights as safetensors (or a weights-only state dict) plus the class's code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.core.errors import InvalidInput
from mloop.serving.runtime import ModelRuntime, model_arrays
from mloop.store import get_artifacts
from tests.registry.fresh import predict_in_fresh_process

torch = pytest.importorskip("torch")  # the torch extra; CI installs it with the dev extra

NET_CODE = textwrap.dedent(
    """
    import torch
    from torch import nn


    class DelayNet(nn.Module):
        def __init__(self, features: int = 2, hidden: int = 8):
            super().__init__()
            self.layers = nn.Sequential(
                nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid()
            )
            self.register_buffer("scale", torch.tensor([1 / 3000, 1 / 24]))

        def forward(self, x):
            return self.layers(x * self.scale)
    """
)


def _net(folder: Path, hidden: int = 8) -> tuple[object, Path]:
    """A trained DelayNet, built from the same file the model will be logged with."""
    import importlib.util

    path = folder / "net.py"
    path.write_text(NET_CODE)
    spec = importlib.util.spec_from_file_location("user_net", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    net = module.DelayNet(hidden=hidden)
    X, y = _data()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    inputs = torch.tensor(X.to_numpy(), dtype=torch.float32)
    target = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    for _ in range(30):
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy(net(inputs), target).backward()
        optimizer.step()
    return net, path


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"distance": rng.uniform(100, 3000, 300), "hour": rng.integers(5, 23, 300)})
    return X, (X["hour"] > 15).astype(float).to_numpy()


def _reference(net: object, X: pd.DataFrame) -> np.ndarray:
    net.eval()  # type: ignore[attr-defined]
    with torch.no_grad():
        return net(torch.tensor(X.to_numpy(), dtype=torch.float32)).numpy().ravel()  # type: ignore[operator]


def test_a_module_is_stored_as_safetensors_and_code_and_loads_elsewhere(
    mloop_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("src")
    net, path = _net(folder, hidden=16)
    X, _ = _data()
    with mloop.start_run():
        info = mloop.log_model(
            net,
            "model",
            code=str(path),
            init_args={"hidden": 16},
            registered_model_name="mlp",
            input_example=X.head(5),
        )
    assert info.flavor == "pytorch"
    path.unlink()
    source = mloop.registry.get_version("mlp", 1).source
    names = sorted(f.rsplit("/", 1)[1] for f in get_artifacts().list(source))
    assert names == ["MLmodel.json", "model.py", "model.safetensors"]
    from safetensors.torch import load

    stored = load(get_artifacts().get_bytes(f"{source}/model.safetensors"))
    assert set(stored) == set(net.state_dict())  # type: ignore[attr-defined]
    expected = _reference(net, X)
    loaded = mloop.load_model("models:/mlp/1")
    assert np.array_equal(loaded.predict(X), expected)
    answers = predict_in_fresh_process(
        mloop_home / ".mloop", tmp_path_factory.mktemp("elsewhere"), ["models:/mlp/1"], X
    )
    assert answers["models:/mlp/1"][0] == "pytorch"
    assert np.allclose(np.ravel(answers["models:/mlp/1"][1]), expected, rtol=0, atol=1e-6)
    meta = loaded.metadata
    assert meta["init_args"] == {"hidden": 16} and meta["model_class"] == "DelayNet"
    assert meta["code_imports"] == {"torch": "torch"}
    from importlib.metadata import version

    assert meta["library_versions"]["torch"] == version("torch")


def test_tensor_signatures_and_batched_cpu_inference(tmp_path: Path) -> None:
    net, path = _net(tmp_path)
    X, _ = _data()
    tensor = torch.tensor(X.to_numpy(), dtype=torch.float32)
    with mloop.start_run():
        mloop.log_model(
            net, "model", code=str(path), registered_model_name="t", input_example=tensor[:4]
        )
    loaded = mloop.load_model("models:/t/1")
    assert loaded.signature is not None
    (spec,) = loaded.signature.inputs
    assert (spec.name, spec.type, spec.shape) == ("input", "float", (-1, 2))
    assert [(c.type, c.shape) for c in loaded.signature.outputs] == [("float", (-1,))]
    assert np.array_equal(loaded.predict(tensor), _reference(net, X))
    assert np.array_equal(loaded.predict(X.to_numpy()), _reference(net, X))
    loaded.native.batch_size = 7  # 300 rows in 43 batches (BLAS rounds by batch size)
    assert np.allclose(loaded.predict(tensor), _reference(net, X), rtol=0, atol=1e-6)
    with pytest.raises(
        InvalidInput, match=r"models:/t/1: the input has shape \[4, 3\], the model takes \[-1, 2\]"
    ):
        loaded.predict(torch.zeros(4, 3))
    with pytest.raises(
        InvalidInput, match=r"the input tensor has dtype int64, the model takes float32"
    ):
        loaded.predict(torch.zeros(4, 2, dtype=torch.int64))
    with pytest.raises(InvalidInput, match=r"the input has dtype <U1, the model takes numbers"):
        loaded.predict(np.array([["a", "b"]]))


def test_mloop_serve_calls_the_modules_forward_on_rows(tmp_path: Path) -> None:
    net, path = _net(tmp_path)
    X, _ = _data()
    with mloop.start_run():
        mloop.log_model(
            net, "model", code=str(path), registered_model_name="mlp", input_example=X.head()
        )
    runtime = ModelRuntime("models:/mlp/1")
    runtime.load()
    out = model_arrays(runtime.model, X.head(10), proba=True, uri=runtime.uri)
    assert np.allclose(out["prediction"], _reference(net, X)[:10], rtol=0, atol=1e-7)
    with pytest.raises(InvalidInput, match=r"models:/mlp/1 needs field 'hour'"):
        runtime.model.predict(X[["distance"]])
    with pytest.raises(InvalidInput, match=r"field 'hour' has dtype (object|str)"):
        runtime.model.predict(X.assign(hour="late"))


def test_tied_weights_fall_back_to_a_weights_only_state_dict(tmp_path: Path) -> None:
    code = tmp_path / "tied.py"
    code.write_text(
        "from torch import nn\n"
        "class Tied(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = nn.Linear(2, 2, bias=False)\n"
        "        self.b = nn.Linear(2, 2, bias=False)\n"
        "        self.b.weight = self.a.weight\n"
        "    def forward(self, x):\n"
        "        return self.b(self.a(x))\n"
    )
    import importlib.util

    spec = importlib.util.spec_from_file_location("tied_user", code)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.Tied()
    with mloop.start_run():
        info = mloop.log_model(
            net, "model", code=str(code), input_example=np.ones((3, 2), "float32")
        )
    loaded = mloop.load_model(info.model_uri)
    assert loaded.metadata["weights_file"] == "model.pt"
    x = torch.ones(3, 2)
    with torch.no_grad():
        assert torch.equal(torch.from_numpy(loaded.predict(x)), net(x))


def test_pytorch_mistakes_name_the_model_and_the_fix(tmp_path: Path) -> None:
    net, path = _net(tmp_path, hidden=16)
    X, _ = _data()
    with pytest.raises(InvalidInput, match=r"pass code='<file>\.py'"):
        mloop.log_model(net, "model")
    with pytest.raises(InvalidInput, match=r"weights do not fit DelayNet\(\*\*init_args\)"):
        mloop.log_model(net, "model", code=str(path), input_example=X.head())  # hidden=8 built
    with mloop.start_run():
        info = mloop.log_model(
            net, "model", code=str(path), init_args={"hidden": 16}, registered_model_name="m"
        )
    source = f"{info.registered_model_version.source}/code/model.py"  # type: ignore[union-attr]
    get_artifacts().put_bytes(source, b"import torchvision_is_not_here\n" + NET_CODE.encode())
    with pytest.raises(
        InvalidInput,
        match=r"models:/m/1: its code failed to import, no module named 'torchvision_is_not_here'",
    ):
        mloop.load_model("models:/m/1")
