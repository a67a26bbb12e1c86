"""Evaluation, gates, model cards and batch scoring with every flavor: a classifier's
labels and probabilities come out right (checked against scikit-learn's metrics computed
on the same probabilities), whatever the booster's or module's own output is."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app
from mloop.core.errors import GateFailed
from mloop.evaluation import Gate, evaluate, model_card, rules

torch = pytest.importorskip("torch")

NET = """
import torch
from torch import nn


class Net(nn.Module):
    classes = [0, 1]

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        scaled = x / torch.tensor([3000.0, 24.0])
        return torch.sigmoid(self.layers(scaled)).squeeze(-1)
"""


def _data(rows: int = 1200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"distance": rng.uniform(100, 3000, rows), "hour": rng.integers(5, 23, rows)}
    )
    noise = rng.normal(0, 3, rows)
    frame["late"] = ((frame["hour"] + noise - frame["distance"] / 1000) > 14).astype(int)
    return frame


def _net(folder: Path, train: pd.DataFrame) -> Any:
    (folder / "net.py").write_text(NET)
    spec = importlib.util.spec_from_file_location("eval_net", folder / "net.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    net = module.Net()
    x = torch.tensor(train[["distance", "hour"]].to_numpy(), dtype=torch.float32)
    y = torch.tensor(train["late"].to_numpy(), dtype=torch.float32)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(150):
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy(net(x), y).backward()
        optimizer.step()
    return net.eval()


def _log(model: Any, name: str, example: pd.DataFrame, **options: Any) -> str:
    with mloop.start_run():
        mloop.log_model(
            model, "model", registered_model_name=name, input_example=example.head(5), **options
        )
    return f"models:/{name}/1"


def _classifiers(folder: Path) -> tuple[pd.DataFrame, dict[str, tuple[str, np.ndarray]]]:
    """Test rows and ``{name: (uri, the model's own positive-class probabilities)}``."""
    frame = _data()
    train, test = frame.iloc[:800], frame.iloc[800:].reset_index(drop=True)
    X, y, X_test = train[["distance", "hour"]], train["late"], test[["distance", "hour"]]
    xgb = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3}, xgboost.DMatrix(X, label=y), 20
    )
    lgb = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7}, lightgbm.Dataset(X, label=y), 20
    )
    net = _net(folder, train)
    sk = LogisticRegression(max_iter=500).fit(X, y)
    with torch.inference_mode():
        net_p = net(torch.tensor(X_test.to_numpy(), dtype=torch.float32)).numpy()
    found = {
        "xgb": (_log(xgb, "xgb", X), xgb.predict(xgboost.DMatrix(X_test))),
        "lgb": (_log(lgb, "lgb", X), lgb.predict(X_test)),
        "net": (_log(net, "net", X, code=str(folder / "net.py")), net_p),
        "onnx": (_log(sk, "onnx", X, flavor="onnx"), sk.predict_proba(X_test)[:, 1]),
    }
    return test, found


def test_evaluation_gets_each_flavors_labels_and_probabilities_right(tmp_path: Path) -> None:
    test, models = _classifiers(tmp_path)
    y = test["late"].to_numpy()
    for name, (uri, proba) in models.items():
        result = evaluate(uri, test, target="late", log=False, plots=False)
        labels = (proba > 0.5).astype(int)  # XGBClassifier's rule: a tie at 0.5 is negative
        assert result.task == "classification", name
        assert result.metrics["accuracy"] == pytest.approx(accuracy_score(y, labels)), name
        assert result.metrics["f1"] == pytest.approx(f1_score(y, labels)), name
        assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba)), name
        expected_loss = log_loss(y, np.clip(proba, 1e-15, 1 - 1e-15))
        assert result.metrics["log_loss"] == pytest.approx(expected_loss, rel=1e-5), name
        assert 0.6 < result.metrics["roc_auc"] <= 1.0, name  # the models learnt something


def test_loaded_boosters_and_classifier_modules_keep_scikit_learns_contract(
    tmp_path: Path,
) -> None:
    test, models = _classifiers(tmp_path)
    X = test[["distance", "hour"]]
    for name in ("xgb", "lgb", "net"):
        uri, proba = models[name]
        model = mloop.load_model(uri)
        assert list(model.classes_) == [0, 1], name
        assert np.allclose(model.predict_proba(X)[:, 1], proba, rtol=0, atol=1e-6), name
        assert np.array_equal(model.predict(X), (proba > 0.5).astype(int)), name


def test_multiclass_booster_predicts_classes_and_one_probability_per_class() -> None:
    frame = _data()
    X = frame[["distance", "hour"]]
    y = pd.cut(frame["hour"], [0, 10, 16, 24], labels=False).to_numpy()
    booster = xgboost.train(
        {"objective": "multi:softprob", "num_class": 3}, xgboost.DMatrix(X, label=y), 10
    )
    model = mloop.load_model(_log(booster, "multi", X))
    raw = booster.predict(xgboost.DMatrix(X))
    assert list(model.classes_) == [0, 1, 2]
    assert np.allclose(model.predict_proba(X), raw, rtol=0, atol=1e-7)
    assert np.array_equal(model.predict(X), raw.argmax(axis=1))
    result = evaluate(model, frame.assign(band=y), target="band", log=False, plots=False)
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(y, raw.argmax(axis=1)))
    assert result.metrics["roc_auc"] == pytest.approx(
        roc_auc_score(y, raw, multi_class="ovr", average="macro")
    )


def test_regression_booster_keeps_its_values() -> None:
    frame = _data()
    X = frame[["distance", "hour"]]
    booster = xgboost.train({"objective": "reg:squarederror"}, xgboost.DMatrix(X, label=X["hour"]))
    model = mloop.load_model(_log(booster, "reg", X))
    assert not hasattr(model, "predict_proba")
    assert np.array_equal(model.predict(X), booster.predict(xgboost.DMatrix(X)))


def test_gates_and_model_cards_take_every_flavor(tmp_path: Path) -> None:
    test, models = _classifiers(tmp_path)
    for name, (_uri, proba) in models.items():
        version = mloop.registry.promote(
            name,
            1,
            alias="champion",
            gate=Gate([rules.min_metric("roc_auc", 0.6)], name=f"{name}-gate"),
            data=test,
            target="late",
        )
        assert version.version == 1, name
        evaluate(f"models:/{name}/1", test, target="late", plots=False)
        card = model_card(f"{name}/1", format="md")
        assert f"{name}-gate" in card and "PASSED" in card, name
        expected = roc_auc_score(test["late"], proba)
        assert f"{expected:.3f}" in card or f"{expected:.4f}" in card, (name, expected)
    refused = Gate([rules.min_metric("roc_auc", 0.999)], name="strict")
    with pytest.raises(GateFailed, match=r"roc_auc = 0\.9\d+ is below the minimum 0\.999"):
        mloop.registry.promote("xgb", 1, alias="strict", gate=refused, data=test, target="late")


def test_mloop_score_writes_labels_and_probabilities_for_every_flavor(
    tmp_path: Path, mloop_home: Path
) -> None:
    test, models = _classifiers(tmp_path)
    test.to_parquet(mloop_home / "in.parquet")
    for name, (uri, proba) in models.items():
        out = mloop_home / f"{name}.parquet"
        result = CliRunner().invoke(
            app, ["score", uri, "--input", str(mloop_home / "in.parquet"), "--output", str(out)]
        )
        assert result.exit_code == 0, (name, result.output)
        scored = pd.read_parquet(out)
        assert len(scored) == len(test), name
        assert np.array_equal(scored["prediction"], (proba > 0.5).astype(int)), name
        assert np.allclose(scored["proba"], proba, rtol=0, atol=1e-6), name


@pytest.mark.ray
def test_scoring_on_ray_takes_models_whose_classes_come_from_stored_code(
    tmp_path: Path, mloop_home: Path
) -> None:
    from mloop import serving

    test, models = _classifiers(tmp_path)
    test.to_parquet(mloop_home / "in.parquet")
    for name in ("net", "onnx", "xgb"):
        uri, proba = models[name]
        result = serving.score(
            uri, mloop_home / "in.parquet", mloop_home / f"{name}.parquet", 150, runner="ray"
        )
        assert result.runner == "ray" and result.chunks == 3, name
        scored = pd.read_parquet(result.output)
        assert np.allclose(scored["proba"], proba, rtol=0, atol=1e-6), name
        assert np.array_equal(scored["prediction"], (proba > 0.5).astype(int)), name
