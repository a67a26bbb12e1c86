"""XGBoost and LightGBM native boosters, stored in their own formats, not as objects."""

from __future__ import annotations

import sys
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost

import mloop
from mloop.core.errors import InvalidInput
from mloop.serving.runtime import ModelRuntime, model_arrays
from mloop.store import get_artifacts
from tests.registry.fresh import predict_in_fresh_process


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"distance": rng.uniform(100, 3000, 400), "hour": rng.integers(5, 23, 400)})
    y = ((X["hour"] + rng.normal(0, 3, 400)) > 15).astype(int).to_numpy()
    return X, y


def _boosters() -> tuple[xgboost.Booster, lightgbm.Booster]:
    X, y = _data()
    xgb = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3}, xgboost.DMatrix(X, label=y), 10
    )
    lgb = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7}, lightgbm.Dataset(X, label=y), 10
    )
    return xgb, lgb


def _log_both() -> tuple[xgboost.Booster, lightgbm.Booster]:
    X, _ = _data()
    xgb, lgb = _boosters()
    with mloop.start_run():
        mloop.log_model(xgb, "xgb", registered_model_name="xgb", input_example=X.head(3))
        mloop.log_model(lgb, "lgb", registered_model_name="lgb", input_example=X.head(3))
    return xgb, lgb


def test_boosters_are_stored_in_their_own_formats_and_predict_the_same(
    mloop_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    X, _ = _data()
    xgb, lgb = _log_both()
    xgb_version = mloop.registry.get_version("xgb", 1)
    lgb_version = mloop.registry.get_version("lgb", 1)
    assert (xgb_version.flavor, lgb_version.flavor) == ("xgboost", "lightgbm")
    files = get_artifacts().list(xgb_version.source) + get_artifacts().list(lgb_version.source)
    names = sorted(f.rsplit("/", 1)[1] for f in files)
    assert names == ["MLmodel.json", "MLmodel.json", "model.txt", "model.ubj"]
    text = get_artifacts().get_bytes(f"{lgb_version.source}/model.txt").decode()
    assert text.startswith("tree\nversion=")
    ubj = get_artifacts().get_bytes(f"{xgb_version.source}/model.ubj")
    assert ubj[:1] == b"{"  # a UBJSON object, not a pickle (b"\x80")
    expected_xgb = xgb.predict(xgboost.DMatrix(X))
    expected_lgb = lgb.predict(X)
    loaded_xgb, loaded_lgb = mloop.load_model("models:/xgb/1"), mloop.load_model("models:/lgb/1")
    assert np.array_equal(loaded_xgb.predict_proba(X)[:, 1], expected_xgb)
    assert np.array_equal(loaded_lgb.predict_proba(X)[:, 1], expected_lgb)
    assert np.array_equal(loaded_xgb.predict(X), (expected_xgb > 0.5).astype(int))
    answers = predict_in_fresh_process(
        mloop_home / ".mloop",
        tmp_path_factory.mktemp("elsewhere"),
        ["models:/xgb/1", "models:/lgb/1"],
        X.head(50),
    )
    assert answers["models:/xgb/1"][0] == "xgboost"
    assert np.ravel(answers["models:/xgb/1"][1]).tolist() == (expected_xgb[:50] > 0.5).tolist()
    assert np.ravel(answers["models:/lgb/1"][1]).tolist() == (expected_lgb[:50] > 0.5).tolist()


def test_boosters_record_their_signature_and_package_versions() -> None:
    from importlib.metadata import version

    _log_both()
    for name, package in (("xgb", "xgboost"), ("lgb", "lightgbm")):
        loaded = mloop.load_model(f"models:/{name}/1")
        assert loaded.metadata["library_versions"][package] == version(package)
        assert loaded.metadata["features"] == ["distance", "hour"]
        assert loaded.signature is not None
        assert [c.name for c in loaded.signature.inputs] == ["distance", "hour"]
        assert [c.type for c in loaded.signature.outputs] == ["long"]  # the class


def test_mloop_serve_answers_a_booster_classifiers_class_and_probability() -> None:
    X, _ = _data()
    xgb, lgb = _log_both()
    for name, expected in (
        ("xgb", xgb.predict(xgboost.DMatrix(X.head(8)))),
        ("lgb", lgb.predict(X.head(8))),
    ):
        runtime = ModelRuntime(f"models:/{name}/1")
        runtime.load()
        out = model_arrays(runtime.model, X.head(8), proba=True, uri=runtime.uri)
        assert np.array_equal(out["prediction"], (expected > 0.5).astype(int))
        assert np.allclose(out["proba"], expected, rtol=0, atol=1e-7)


def test_bad_input_to_a_booster_names_the_model_and_the_field() -> None:
    X, _ = _data()
    _log_both()
    for name in ("xgb", "lgb"):
        model = mloop.load_model(f"models:/{name}/1")
        with pytest.raises(InvalidInput, match=rf"models:/{name}/1 needs feature 'hour'"):
            model.predict(X[["distance"]])
        with pytest.raises(InvalidInput, match=r"feature 'hour' has dtype (object|str)"):
            model.predict(X.assign(hour="late"))
    unnamed = xgboost.train({"max_depth": 2}, xgboost.DMatrix(X.to_numpy(), label=X["hour"]), 3)
    with mloop.start_run():
        mloop.log_model(unnamed, "m", registered_model_name="unnamed")
    with pytest.raises(InvalidInput, match="takes 2 features, the input has 1 columns"):
        mloop.load_model("models:/unnamed/1").predict(X[["distance"]])
    assert mloop.load_model("models:/unnamed/1").predict(X).shape == (len(X),)


def test_a_corrupt_booster_file_is_a_clear_error() -> None:
    _log_both()
    source = mloop.registry.get_version("lgb", 1).source
    get_artifacts().put_bytes(f"{source}/model.txt", b"not a model")
    with pytest.raises(
        InvalidInput, match=r"models:/lgb/1: its lightgbm model file cannot be read"
    ):
        mloop.load_model("models:/lgb/1")


def test_a_missing_package_is_named_with_the_version_the_model_was_logged_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib.metadata import version

    X, y = _data()
    _log_both()
    with mloop.start_run():
        mloop.log_model(
            lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y),
            "wrapper",
            registered_model_name="wrapper",
        )
    for name in [m for m in sys.modules if m == "lightgbm" or m.startswith("lightgbm.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as on a host without lightgbm
    pin = f"lightgbm=={version('lightgbm')}"
    with pytest.raises(InvalidInput, match=rf"models:/lgb/1 is a lightgbm booster .*'{pin}'"):
        mloop.load_model("models:/lgb/1")
    with pytest.raises(InvalidInput, match=rf"models:/wrapper/1 needs .*'lightgbm'.*'{pin}'"):
        mloop.load_model("models:/wrapper/1")
