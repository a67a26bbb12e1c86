"""Models from code: a .py file with a predict class, logged as source plus artifacts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.core.errors import InvalidInput, NotFound
from mloop.registry import flavors
from mloop.serving.runtime import ModelRuntime, model_arrays
from mloop.store import get_artifacts

MODEL_CODE = '''
"""A linear scorer whose weights and threshold are artifacts."""
import json

import numpy as np


class LinearScore:
    def load_context(self, artifacts):
        self.weights = np.load(artifacts["weights"])
        with open(artifacts["config"]) as stream:
            self.threshold = json.load(stream)["threshold"]

    def predict(self, frame):
        score = frame[["distance", "hour"]].to_numpy(dtype=float) @ self.weights
        return (score > self.threshold).astype(int)
'''


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"distance": [100.0, 900.0, 2500.0, 40.0], "hour": [6, 20, 9, 23]})


def _expected(frame: pd.DataFrame) -> list[int]:
    score = frame["distance"] * 0.001 + frame["hour"] * 0.1
    return (score > 1.5).astype(int).tolist()


def _write_model(folder: Path, code: str = MODEL_CODE) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(code)
    np.save(folder / "w.npy", np.array([0.001, 0.1]))
    (folder / "config.json").write_text(json.dumps({"threshold": 1.5}))
    return {"weights": str(folder / "w.npy"), "config": str(folder / "config.json")}


def test_a_code_model_loads_in_a_fresh_process_elsewhere_with_its_source_gone(
    mloop_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = tmp_path_factory.mktemp("src")
    artifacts = _write_model(source)
    with mloop.start_run():
        info = mloop.log_model(
            str(source / "model.py"),
            "model",
            artifacts=artifacts,
            registered_model_name="linear",
            input_example=_frame().head(2),
        )
    assert info.flavor == "code"
    for path in source.iterdir():
        path.unlink()
    source.rmdir()
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    script = textwrap.dedent(
        """
        import json, sys
        import pandas as pd
        import mloop
        frame = pd.DataFrame(json.loads(sys.argv[1]))
        model = mloop.load_model("models:/linear/1")
        print(json.dumps([model.flavor, model.predict(frame).tolist()]))
        """
    )
    env = {**os.environ, "MLOOP_HOME": str(mloop_home / ".mloop")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run(
        [sys.executable, "-c", script, _frame().to_json(orient="columns")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    flavor, predictions = json.loads(done.stdout.strip().splitlines()[-1])
    assert flavor == "code"
    assert predictions == _expected(_frame())


def test_a_code_model_records_its_signature_packages_and_checksummed_source(
    tmp_path: Path,
) -> None:
    artifacts = _write_model(tmp_path / "m")
    with mloop.start_run():
        info = mloop.log_model(
            str(tmp_path / "m" / "model.py"),
            "model",
            artifacts=artifacts,
            registered_model_name="linear",
            input_example=_frame(),
        )
    loaded = mloop.load_model("models:/linear/1")
    assert loaded.signature is not None
    assert [(c.name, c.type) for c in loaded.signature.inputs] == [
        ("distance", "double"),
        ("hour", "long"),
    ]
    assert info.signature == loaded.signature.to_dict()
    meta = loaded.metadata
    assert meta["model_class"] == "LinearScore"
    assert meta["code_imports"] == {"numpy": "numpy"}
    import platform
    from importlib.metadata import version

    assert meta["python_version"] == platform.python_version()
    assert meta["library_versions"]["numpy"] == version("numpy")
    assert meta["library_versions"]["pandas"] == version("pandas")
    assert "scikit-learn" not in meta["library_versions"]
    source = get_artifacts().info(f"{loaded.version.source}/code/model.py")  # type: ignore[union-attr]
    import hashlib

    assert source.sha256 == meta["code_sha256"] == hashlib.sha256(MODEL_CODE.encode()).hexdigest()


def test_mloop_serve_calls_the_code_models_predict(tmp_path: Path) -> None:
    artifacts = _write_model(tmp_path / "m")
    with mloop.start_run():
        mloop.log_model(
            str(tmp_path / "m" / "model.py"),
            "model",
            artifacts=artifacts,
            registered_model_name="linear",
            input_example=_frame(),
        )
    runtime = ModelRuntime("models:/linear/1")
    runtime.load()
    out = model_arrays(runtime.model, _frame(), proba=True, uri=runtime.uri)
    assert out["prediction"].tolist() == _expected(_frame())


def test_a_code_model_that_fails_to_import_names_the_package_to_install(tmp_path: Path) -> None:
    artifacts = _write_model(tmp_path / "m")
    with mloop.start_run():
        info = mloop.log_model(
            str(tmp_path / "m" / "model.py"),
            "model",
            artifacts=artifacts,
            registered_model_name="x",
        )
    key = f"{info.registered_model_version.source}/code/model.py"  # type: ignore[union-attr]
    get_artifacts().put_bytes(key, b"import numpy_not_there\n" + MODEL_CODE.encode())
    with pytest.raises(InvalidInput, match=r"models:/x/1: its code failed to import.*numpy_not"):
        mloop.load_model("models:/x/1")
    get_artifacts().put_bytes(key, b"def broken(:\n")
    with pytest.raises(InvalidInput, match=r"models:/x/1: its code failed to import \(Syntax"):
        mloop.load_model("models:/x/1")


def test_a_missing_module_is_named_with_the_version_it_was_logged_with(tmp_path: Path) -> None:
    from mloop.registry.flavors import environment

    hint = environment.install_hint(
        "sklearn", {"sklearn": "scikit-learn"}, {"scikit-learn": "1.9.1"}
    )
    assert (
        hint
        == "the model was logged with scikit-learn==1.9.1; install it: pip install 'scikit-learn==1.9.1'"
    )


def test_a_missing_artifact_is_named_with_the_model(tmp_path: Path) -> None:
    artifacts = _write_model(tmp_path / "m")
    with mloop.start_run():
        info = mloop.log_model(
            str(tmp_path / "m" / "model.py"),
            "model",
            artifacts=artifacts,
            registered_model_name="x",
        )
    get_artifacts().delete(f"{info.registered_model_version.source}/artifacts/weights/w.npy")  # type: ignore[union-attr]
    with pytest.raises(NotFound, match=r"models:/x/1: its artifact 'weights'"):
        mloop.load_model("models:/x/1")


def test_bad_code_models_are_refused_at_log_time_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        mloop.log_model(str(tmp_path / "nope.py"), "model")
    two = tmp_path / "two.py"
    two.write_text("class A:\n    def predict(self, f): return f\nclass B(A): pass\n")
    with pytest.raises(InvalidInput, match=r"exactly one class .* A, B; name the class"):
        mloop.log_model(str(two), "model")
    with mloop.start_run():
        assert mloop.log_model(f"{two}:B", "model").flavor == "code"
    with pytest.raises(InvalidInput, match="no class 'C'"):
        mloop.log_model(f"{two}:C", "model")
    needs = tmp_path / "needs.py"
    needs.write_text(
        "class M:\n    def load_context(self, a):\n        self.w = open(a['weights']).read()\n"
        "    def predict(self, f): return f\n"
    )
    with pytest.raises(InvalidInput, match=r"load_context\(artifacts\) failed \(KeyError"):
        mloop.log_model(str(needs), "model")
    with pytest.raises(NotFound, match="artifact 'weights' points to"):
        mloop.log_model(str(needs), "model", artifacts={"weights": str(tmp_path / "none")})
    with pytest.raises(InvalidInput, match="artifacts= goes with a model from code"):
        mloop.log_model(_Plain(), "model", artifacts={"weights": str(two)})


class _Plain:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(frame))


def test_a_host_can_refuse_code_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    artifacts = _write_model(tmp_path / "m")
    with mloop.start_run():
        mloop.log_model(
            str(tmp_path / "m" / "model.py"),
            "model",
            artifacts=artifacts,
            registered_model_name="x",
        )
    monkeypatch.setenv("MLOOP_MODELS_ALLOW_CODE", "false")
    with pytest.raises(InvalidInput, match="refuses code models"):
        mloop.load_model("models:/x/1")
    monkeypatch.setenv("MLOOP_MODELS_ALLOW_CODE", "true")
    assert mloop.load_model("models:/x/1").predict(_frame()).tolist() == _expected(_frame())


def test_artifact_folders_travel_with_the_model(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab"
    (vocab / "nested").mkdir(parents=True)
    (vocab / "nested" / "words.txt").write_text("late\nearly\n")
    code = tmp_path / "words.py"
    code.write_text(
        "from pathlib import Path\n"
        "class Words:\n"
        "    def load_context(self, artifacts):\n"
        "        self.words = (Path(artifacts['vocab']) / 'nested' / 'words.txt').read_text().split()\n"
        "    def predict(self, frame):\n"
        "        return [self.words[i] for i in frame['i']]\n"
    )
    with mloop.start_run():
        mloop.log_model(
            str(code), "model", artifacts={"vocab": str(vocab)}, registered_model_name="w"
        )
    loaded = mloop.load_model("models:/w/1")
    assert loaded.predict(pd.DataFrame({"i": [1, 0]})) == ["early", "late"]
    assert loaded.metadata["artifacts"]["vocab"]["folder"] is True
    assert isinstance(flavors.MODEL_FILE, str)
