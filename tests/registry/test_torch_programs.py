"""PyTorch models as programs: TorchScript and exported programs (torch.export), loaded
without running Python code from the file or unpickling arbitrary objects."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.core.errors import InvalidInput
from mloop.registry.flavors.torch_programs import check_exported
from mloop.serving.runtime import ModelRuntime, model_arrays
from mloop.store import get_artifacts
from tests.registry.fresh import predict_in_fresh_process

torch = pytest.importorskip("torch")


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.layers(x / 1000.0)).squeeze(-1)


def _rows() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    return pd.DataFrame(
        {"distance": rng.uniform(100, 3000, 50), "hour": rng.integers(5, 23, 50).astype(float)}
    )


def _net() -> Net:
    torch.manual_seed(1)
    return Net().eval()


def _expected(net: Net, X: pd.DataFrame) -> np.ndarray:
    with torch.inference_mode():
        return net(torch.tensor(X.to_numpy(), dtype=torch.float32)).numpy()


def _exported(net: Net) -> object:
    batch = torch.export.Dim("batch")
    return torch.export.export(net, (torch.zeros(4, 2),), dynamic_shapes={"x": {0: batch}})


def _archive(net: Net) -> bytes:
    buffer = io.BytesIO()
    torch.export.save(_exported(net), buffer)
    return buffer.getvalue()


def test_torchscript_and_exported_programs_load_elsewhere_and_predict_the_same(
    mloop_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    X = _rows()
    net = _net()
    with mloop.start_run():
        mloop.log_model(torch.jit.script(net), "ts", registered_model_name="ts", input_example=X)
        mloop.log_model(_exported(net), "ep", registered_model_name="ep", input_example=X)
    for name, file in (("ts", "model.torchscript"), ("ep", "model.pt2")):
        version = mloop.registry.get_version(name, 1)
        assert version.flavor == "pytorch"
        stored = sorted(k.rsplit("/", 1)[1] for k in get_artifacts().list(version.source))
        assert stored == ["MLmodel.json", file], name
        loaded = mloop.load_model(f"models:/{name}/1")
        assert np.allclose(loaded.predict(X), _expected(net, X), rtol=0, atol=1e-6), name
        assert loaded.signature is not None
        assert [c.name for c in loaded.signature.inputs] == ["distance", "hour"]
    answers = predict_in_fresh_process(
        mloop_home / ".mloop",
        tmp_path_factory.mktemp("elsewhere"),
        ["models:/ts/1", "models:/ep/1"],
        X.head(7),  # another batch size than the example's
    )
    for uri in ("models:/ts/1", "models:/ep/1"):
        assert answers[uri][0] == "pytorch"
        got = np.ravel(answers[uri][1])
        assert np.allclose(got, _expected(net, X.head(7)), rtol=0, atol=1e-6), uri


def test_programs_are_served_and_check_their_tensors() -> None:
    X = _rows()
    with mloop.start_run():
        mloop.log_model(torch.jit.trace(_net(), torch.zeros(3, 2)), "ts", "traced", X.head(3))
    runtime = ModelRuntime("models:/traced/1")
    runtime.load()
    out = model_arrays(runtime.model, X.head(5), proba=True, uri=runtime.uri)
    assert np.allclose(out["prediction"], _expected(_net(), X.head(5)), rtol=0, atol=1e-6)
    with pytest.raises(InvalidInput, match=r"models:/traced/1: the input has shape \[2, 3\]"):
        runtime.model.predict(torch.zeros(2, 3))
    with pytest.raises(InvalidInput, match=r"needs field 'hour'"):
        runtime.model.predict(X[["distance"]])


def test_torchscript_is_data_but_an_exported_program_is_refused_where_code_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X = _rows()
    with mloop.start_run():
        mloop.log_model(torch.jit.script(_net()), "ts", registered_model_name="ts")
        mloop.log_model(_exported(_net()), "ep", registered_model_name="ep", input_example=X)
    monkeypatch.setenv("MLOOP_MODELS_ALLOW_CODE", "false")
    assert mloop.load_model("models:/ts/1").predict(X).shape == (50,)
    with pytest.raises(InvalidInput, match="exported program, which mloop treats as code"):
        mloop.load_model("models:/ep/1")


def _rewritten(data: bytes, inner: str, change: object) -> bytes:
    """``data`` with the archive member ending in ``inner`` replaced by ``change(bytes)``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith(inner):
                content = change(content)  # type: ignore[operator]
            target.writestr(item, content)
    return out.getvalue()


def test_an_archive_calling_python_or_holding_objects_is_refused_before_loading() -> None:
    data = _archive(_net())
    check_exported(data, "model m")  # the genuine archive passes
    calls_system = _rewritten(
        data,
        "models/model.json",
        lambda b: b.replace(b"torch.ops.aten.sigmoid.default", b"torch.os.system"),
    )
    with pytest.raises(InvalidInput, match=r"model m: .* holds a call to 'torch\.os\.system'"):
        check_exported(calls_system, "model m")
    evals = _rewritten(
        data,
        "models/model.json",
        lambda b: b.replace(b"Symbol('s", b"__import__('os').system('s", 1),
    )
    with pytest.raises(InvalidInput, match="holds the shape expression"):
        check_exported(evals, "model m")
    buffer = io.BytesIO()
    torch.save({"x": Path("/etc/passwd")}, buffer)  # an object, not a tensor
    with_object = _rewritten(data, "data/sample_inputs/model.pt", lambda _: buffer.getvalue())
    with pytest.raises(InvalidInput, match="pickled payload with objects other than tensors"):
        check_exported(with_object, "model m")
