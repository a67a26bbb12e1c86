"""ONNX: any ONNX graph served with onnxruntime; scikit-learn converted where asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
import xgboost
from onnx import TensorProto, helper, numpy_helper
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mloop
from mloop.core.errors import InvalidInput
from mloop.serving.runtime import ModelRuntime, model_arrays
from mloop.store import get_artifacts
from tests.registry.fresh import predict_in_fresh_process

WEIGHTS = np.array([[0.002], [-0.3]], dtype=np.float32)
BIAS = np.array([1.5], dtype=np.float32)


def _data(n: int = 400) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(2)
    X = pd.DataFrame(
        {
            "distance": rng.uniform(100, 3000, n),
            "hour": rng.integers(5, 23, n),
            "carrier": rng.choice(["UA", "AA", "DL"], n),
        }
    )
    y = ((X["hour"] + (X["carrier"] == "UA") * 4 + rng.normal(0, 3, n)) > 16).astype(int)
    return X, y


def _pipeline() -> tuple[object, pd.DataFrame]:
    X, y = _data()
    pipe = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["carrier"]),
            (StandardScaler(), ["distance", "hour"]),
        ),
        LogisticRegression(),
    ).fit(X, y)
    return pipe, X


def _graph() -> onnx.ModelProto:
    """sigmoid(x @ W + b), written by hand: an ONNX model from no converter at all."""
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "score",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(WEIGHTS, "W"), numpy_helper.from_array(BIAS, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_pipeline_logged_as_onnx_matches_scikit_learn_and_reports_the_difference() -> None:
    pipe, X = _pipeline()
    with mloop.start_run():
        info = mloop.log_model(
            pipe, "model", flavor="onnx", registered_model_name="onnx", input_example=X
        )
    assert info.flavor == "onnx"
    loaded = mloop.load_model("models:/onnx/1")
    expected = pipe.predict_proba(X)  # type: ignore[attr-defined]
    measured = float(np.abs(loaded.predict_proba(X) - expected).max())
    assert measured < 1e-5
    assert np.array_equal(loaded.predict(X), pipe.predict(X))  # type: ignore[attr-defined]
    assert info.conversion is not None
    assert info.conversion["rows"] == len(X) and info.conversion["compared"] == "predict_proba"
    assert info.conversion["max_abs_diff"] == pytest.approx(measured, rel=0, abs=1e-9)
    assert info.conversion["label_agreement"] == 1.0
    assert loaded.metadata["conversion"] == info.conversion
    files = get_artifacts().list(loaded.version.source)  # type: ignore[union-attr]
    assert sorted(f.rsplit("/", 1)[1] for f in files) == ["MLmodel.json", "model.onnx"]
    assert {"onnx", "onnxruntime", "skl2onnx"} <= set(loaded.metadata["library_versions"])


def test_bare_estimators_convert_to_one_matrix_input() -> None:
    X, y = _data()
    numeric = X[["distance", "hour"]]
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(numeric, y)
    ridge = Ridge().fit(numeric, y)
    with mloop.start_run():
        forest_info = mloop.log_model(forest, "f", flavor="onnx", input_example=numeric)
        ridge_info = mloop.log_model(ridge, "r", flavor="onnx", input_example=numeric)
    assert forest_info.conversion is not None and ridge_info.conversion is not None
    assert forest_info.conversion["label_agreement"] >= 0.99
    assert ridge_info.conversion["compared"] == "predict"
    assert ridge_info.conversion["max_abs_diff"] < 1e-4
    ridge_loaded = mloop.load_model(ridge_info.model_uri)
    assert np.allclose(ridge_loaded.predict(numeric), ridge.predict(numeric), atol=1e-4)


def test_any_onnx_graph_is_served_with_onnxruntime(
    mloop_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    X, _ = _data()
    rows = X[["distance", "hour"]]
    with mloop.start_run():
        mloop.log_model(_graph(), "model", registered_model_name="graph", input_example=rows.head())
    pipe, _ = _pipeline()
    with mloop.start_run():
        mloop.log_model(pipe, "model", flavor="onnx", registered_model_name="onnx", input_example=X)
    expected = 1 / (1 + np.exp(-(rows.to_numpy() @ WEIGHTS.astype(float) + BIAS)))
    loaded = mloop.load_model("models:/graph/1")
    assert loaded.flavor == "onnx"
    assert np.allclose(loaded.predict(rows), expected.ravel(), atol=1e-6)
    assert np.allclose(loaded.predict(rows.to_numpy(np.float32)), expected.ravel(), atol=1e-6)
    answers = predict_in_fresh_process(
        mloop_home / ".mloop",
        tmp_path_factory.mktemp("elsewhere"),
        ["models:/graph/1", "models:/onnx/1"],
        X.head(20),
    )
    assert np.allclose(np.ravel(answers["models:/graph/1"][1]), expected.ravel()[:20], atol=1e-6)
    assert np.ravel(answers["models:/onnx/1"][1]).tolist() == pipe.predict(X.head(20)).tolist()  # type: ignore[attr-defined]
    for uri in ("models:/graph/1", "models:/onnx/1"):
        runtime = ModelRuntime(uri)
        runtime.load()
        out = model_arrays(runtime.model, X.head(8), proba=True, uri=uri)
        if uri == "models:/graph/1":
            assert np.allclose(out["prediction"], expected.ravel()[:8], atol=1e-6)
        else:
            assert out["prediction"].tolist() == pipe.predict(X.head(8)).tolist()  # type: ignore[attr-defined]
            assert np.allclose(out["proba"], pipe.predict_proba(X.head(8))[:, 1], atol=1e-5)  # type: ignore[attr-defined]


def test_bad_input_to_an_onnx_model_names_the_model_and_the_field() -> None:
    X, _ = _data()
    pipe, _ = _pipeline()
    with mloop.start_run():
        mloop.log_model(pipe, "model", flavor="onnx", registered_model_name="onnx", input_example=X)
        mloop.log_model(_graph(), "graph", registered_model_name="graph")
    converted = mloop.load_model("models:/onnx/1")
    with pytest.raises(InvalidInput, match=r"models:/onnx/1 needs field 'carrier'"):
        converted.predict(X.drop(columns=["carrier"]))
    with pytest.raises(InvalidInput, match=r"field 'hour' has dtype .*takes tensor\(float\)"):
        converted.predict(X.assign(hour="late"))
    graph = mloop.load_model("models:/graph/1")
    with pytest.raises(InvalidInput, match=r"models:/graph/1: the input has shape \[4, 3\]"):
        graph.predict(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(
        InvalidInput, match=r"the input has shape \[4\], the model takes \['batch', 2\]"
    ):
        graph.predict(np.zeros(4, dtype=np.float32))


def test_onnx_conversion_asks_for_what_it_needs() -> None:
    pipe, _ = _pipeline()
    with pytest.raises(InvalidInput, match="needs input_example="):
        mloop.log_model(pipe, "model", flavor="onnx")
    with pytest.raises(InvalidInput, match=r"flavor='sklearn' does not fit a ModelProto"):
        mloop.log_model(_graph(), "model", flavor="sklearn")
    booster = xgboost.train({}, xgboost.DMatrix(np.zeros((4, 2)), label=[0, 1, 0, 1]), 1)
    with pytest.raises(InvalidInput, match=r"flavor='onnx' does not fit a Booster .*'xgboost'"):
        mloop.log_model(booster, "model", flavor="onnx")
