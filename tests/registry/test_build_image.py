"""``mloop models build-image`` writes a container build context. No container engine runs
here, so the slow test carries out the context's own steps (``install.sh``, then
``entrypoint.sh``) in a fresh virtual environment, as the Dockerfile does, and serves
the model from it: the context is complete without an engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

import mloop
from mloop.core.errors import InvalidInput, NotFound
from mloop.registry.flavors.image import build_context, import_model
from mloop.store import get_artifacts
from tests.registry.served import served
from tests.registry.test_model_env import _champion, _mloop, env_root  # noqa: F401


def _outside_env() -> dict[str, str]:
    """The environment of a fresh shell: no PYTHONPATH, no mloop settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("MLOOP_")
    }


@pytest.mark.slow
def test_the_build_context_installs_and_serves_the_model_in_a_fresh_venv(
    env_root: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    X = _champion()
    context = tmp_path / "image"
    done = _mloop("models", "build-image", "models:/delays@champion", "--output", str(context))
    assert done.returncode == 0, done.stdout + done.stderr
    dockerfile = (context / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "RUN sh /app/install.sh" in dockerfile
    assert 'ENTRYPOINT ["sh", "/app/entrypoint.sh"]' in dockerfile
    lock = (context / "requirements.lock").read_text().splitlines()
    recorded = mloop.registry.model_metadata("models:/delays@champion")["library_versions"]
    for name, version in recorded.items():
        if name != "mloop":
            assert f"{name}=={version}" in lock, name
    assert all("==" in line for line in lock)  # every line pinned
    assert [p.name for p in (context / "wheels").iterdir()] == ["mloop-0.1.0-py3-none-any.whl"]
    assert {"MLmodel.json", "model.skops"} <= {p.name for p in (context / "model").iterdir()}

    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(fresh)], check=True)
    env = {**_outside_env(), "PATH": f"{fresh / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    install = subprocess.run(
        ["sh", str(context / "install.sh")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    assert "registered delays version 1 (sklearn)" in install.stdout

    with served(
        lambda port: subprocess.Popen(
            ["sh", str(context / "entrypoint.sh"), "--no-log"],
            cwd=elsewhere,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            start_new_session=True,
        ),
        "entrypoint.sh",
        timeout=300,
    ) as url:
        rows = X.head(5)
        response = httpx.post(
            f"{url}/v1/models/delays/predict",
            json={"records": rows.to_dict(orient="records")},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        expected = mloop.load_model("models:/delays@champion").predict(rows)
        assert response.json()["predictions"] == expected.tolist()
    assert (context / ".mloop").is_dir()  # the image's own mloop home, beside the scripts


def test_a_model_folder_imports_as_a_new_version_that_predicts_the_same(tmp_path: Path) -> None:
    X = _champion()
    source = mloop.registry.get_version("delays", 1).source
    get_artifacts().download_dir(source, tmp_path / "model")
    version = import_model(tmp_path / "model", "delays-copy", alias="champion")
    assert (version.name, version.version, version.flavor) == ("delays-copy", 1, "sklearn")
    copy = mloop.load_model("models:/delays-copy@champion")
    original = mloop.load_model("models:/delays@champion")
    assert np.array_equal(copy.predict(X), original.predict(X))
    with pytest.raises(NotFound, match="holds no logged model"):
        import_model(tmp_path, "nothing")


def test_build_image_refuses_a_folder_in_use_and_a_run_uri(tmp_path: Path) -> None:
    _champion()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="is not an empty folder"):
        build_context("models:/delays@champion", tmp_path / "busy")
    run_id = mloop.registry.get_version("delays", 1).run_id
    with pytest.raises(InvalidInput, match="is not a registered model"):
        build_context(f"runs:/{run_id}/model", tmp_path / "new")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
