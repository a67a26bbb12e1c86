"""`mloop models show` tells the environment a model was logged in."""

from __future__ import annotations

import json
import platform
from importlib.metadata import version

import numpy as np
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app


def test_models_show_prints_the_python_and_package_versions_of_the_model() -> None:
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    with mloop.start_run():
        mloop.log_model(
            LogisticRegression().fit(X, [0, 0, 1, 1]), "model", registered_model_name="env"
        )
    runner = CliRunner()
    shown = runner.invoke(app, ["models", "show", "env", "--json"])
    assert shown.exit_code == 0, shown.output
    environment = json.loads(shown.output)["environment"]
    assert environment["python_version"] == platform.python_version()
    assert environment["library_versions"]["scikit-learn"] == version("scikit-learn")
    assert environment["library_versions"]["skops"] == version("skops")
    assert "lightgbm" not in environment["library_versions"]
    text = runner.invoke(app, ["models", "show", "env"]).output
    assert f"python {platform.python_version()}" in text
    assert f"scikit-learn=={version('scikit-learn')}" in text
    meta = mloop.registry.model_metadata("models:/env/1")
    assert (
        meta["flavor"] == "sklearn" and meta["library_versions"] == environment["library_versions"]
    )
