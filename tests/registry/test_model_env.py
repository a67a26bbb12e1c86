"""``mloop models env`` builds a virtual environment with exactly the packages a model was
logged with (mloop from the local project), cached by its requirements, and
``mloop serve --env-manager venv`` serves the model from it.

The environments are cached under ``MLOOP_TEST_ENV_ROOT`` (default
``~/.cache/mloop-tests/envs``) so that only the first run on a machine builds one
(about two minutes); later runs reuse it and only reinstall mloop when its source changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.core.errors import InvalidInput
from mloop.registry.flavors.venv import Requirements, build
from tests.registry.served import served

ENV_ROOT = Path(
    os.environ.get("MLOOP_TEST_ENV_ROOT", Path.home() / ".cache" / "mloop-tests" / "envs")
)


@pytest.fixture
def env_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOOP_MODELS_ENV_ROOT", str(ENV_ROOT))
    return ENV_ROOT


def _champion() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"distance": rng.uniform(100, 3000, 300), "hour": rng.integers(5, 23, 300)})
    model = LogisticRegression(max_iter=300).fit(X, (X["hour"] > 15).astype(int))
    with mloop.start_run():
        mloop.log_model(model, "model", registered_model_name="delays", input_example=X.head(3))
    mloop.registry.set_alias("delays", "champion", 1)
    return X


def _mloop(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run(
        [sys.executable, "-m", "mloop", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
        **options,  # type: ignore[call-overload]
    )


@contextmanager
def _serving(*args: str) -> Iterator[str]:
    """``mloop serve ... --env-manager venv`` on a free port."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-m", "mloop", "serve", *args, "--no-log"]
    with served(
        lambda port: subprocess.Popen(
            [*command, "--port", str(port)], env=env, start_new_session=True
        ),
        "mloop serve --env-manager venv",
        timeout=600,
    ) as url:
        yield url


@pytest.mark.slow
def test_models_env_holds_exactly_the_logged_packages_and_serves_the_model(
    env_root: Path,
) -> None:
    X = _champion()
    done = _mloop("models", "env", "models:/delays@champion", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout)
    assert Path(found["path"]).parent == env_root
    recorded = mloop.registry.model_metadata("models:/delays@champion")["library_versions"]
    assert sorted(found["packages"]) == sorted(
        f"{name}=={version}" for name, version in recorded.items() if name != "mloop"
    )
    probe = (
        "import json, importlib.metadata as m, mloop; "
        "print(json.dumps({'versions': {d.metadata['Name'].lower(): d.version "
        "for d in m.distributions()}, 'mloop': mloop.__file__}))"
    )
    inside = subprocess.run(
        [found["python"], "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    installed = json.loads(inside.stdout)
    for name, version in recorded.items():
        assert installed["versions"][name] == version, name
    assert installed["mloop"].startswith(found["path"])  # its own mloop, not this checkout's
    assert "torch" not in installed["versions"]  # nothing the model does not need

    again = _mloop("models", "env", "models:/delays@champion", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["built"] is False
    assert json.loads(again.stdout)["path"] == found["path"]

    with _serving("models:/delays@champion", "--env-manager", "venv") as url:
        rows = X.head(6)
        response = httpx.post(
            f"{url}/v1/models/delays/predict",
            json={"records": rows.to_dict(orient="records")},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        expected = mloop.load_model("models:/delays@champion").predict(rows)
        assert response.json()["predictions"] == expected.tolist()


def test_an_env_for_another_python_is_refused_with_the_fix(env_root: Path) -> None:
    wanted = Requirements("3.9.18", (f"numpy=={metadata.version('numpy')}",), "0.1.0")
    with pytest.raises(InvalidInput, match=r"logged with Python 3\.9\.18.*--python"):
        build(wanted, "model models:/old/1")


def test_requirements_pin_every_recorded_package_but_mloop() -> None:
    meta = {
        "python_version": "3.11.9",
        "library_versions": {"mloop": "0.1.0", "numpy": "2.4.6", "scikit-learn": "1.8.0"},
    }
    found = Requirements.of(meta)
    assert found.pins == ("numpy==2.4.6", "scikit-learn==1.8.0")
    assert found.mloop == "0.1.0"
    other_patch = Requirements.of({**meta, "python_version": "3.11.4"})
    assert found.key() == other_patch.key()  # one env per minor version
    other_numpy = Requirements.of({**meta, "library_versions": {"numpy": "2.4.5"}})
    assert found.key() != other_numpy.key()


def test_serve_refuses_an_unknown_env_manager() -> None:
    done = _mloop("serve", "models:/delays@champion", "--env-manager", "conda")
    assert done.returncode != 0
    assert "--env-manager 'conda' is unknown; use 'local' or 'venv'" in done.stdout + done.stderr
