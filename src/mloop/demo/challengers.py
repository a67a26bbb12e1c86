"""Step 3b: challengers from other frameworks against the scikit-learn champion.

An XGBoost booster and a small PyTorch MLP are trained on the same rows as the champion
(the same flights, the same point-in-time features, the same time split), logged as
models from code (:mod:`mloop.demo.challenger_models`: the booster's UBJSON and the
MLP's safetensors as artifacts, never a pickle), registered as versions of the demo's
model, gated (the release gate, and no worse than the champion on ROC AUC) and promoted
when they pass. The server then serves, and the monitor watches, whichever is champion.

Skipped, with the reason, when torch, safetensors or xgboost is not installed
(``pip install 'mloop[torch,boosting]'``).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mloop
from mloop import monitoring, registry
from mloop.core.errors import GateFailed
from mloop.demo.challenger_models import MLP_FILE, XGB_FILE
from mloop.demo.gate import release_gate
from mloop.demo.scenario import FEATURES, MODEL, TARGET
from mloop.demo.training import build_training_set, select_flights, split_by_time
from mloop.evaluation import Gate, rules

if TYPE_CHECKING:
    import pandas as pd

CATEGORIES = ("origin", "carrier")


def missing_packages() -> list[str]:
    """The packages the challengers need that are not installed."""
    import importlib.util

    return [p for p in ("torch", "safetensors", "xgboost") if importlib.util.find_spec(p) is None]


def run_challengers(params: dict[str, Any], flights: pd.DataFrame) -> list[dict[str, Any]]:
    """Train, log, gate and maybe promote each challenger; one summary per challenger."""
    with mloop.start_run(run_name="challengers", nested=True):
        entities = select_flights(flights, params["until"], params["data"])
        train, validation = split_by_time(build_training_set(entities), params["split"])
        rows = validation[[*FEATURES, TARGET]]
        results = []
        with tempfile.TemporaryDirectory(prefix="mloop-challengers-") as folder:
            for name, trainer in (("xgboost", _train_booster), ("pytorch", _train_mlp)):
                started = time.perf_counter()
                code, artifacts = trainer(train, Path(folder) / name)
                results.append(
                    _release(name, code, artifacts, train, rows, params["release"], started)
                )
    return results


def _release(
    name: str,
    code: str,
    artifacts: dict[str, str],
    train: pd.DataFrame,
    rows: pd.DataFrame,
    release: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    info = mloop.log_model(
        code,
        f"challenger-{name}",
        registered_model_name=MODEL,
        input_example=train[FEATURES].head(5),
        artifacts=dict(artifacts),
    )
    version = info.registered_model_version
    assert version is not None
    registry.set_version_tag(MODEL, version.version, "mloop.demo.challenger", name)
    base = release_gate(release, rows)
    gate = Gate([*base.rules, rules.max_regression("roc_auc", 0.0)], name=f"{MODEL}-challenger")
    summary: dict[str, Any] = {"framework": name, "version": version.version}
    try:
        registry.promote(
            MODEL, version.version, alias="champion", gate=gate, data=rows, target=TARGET
        )
        summary["promoted"] = True
    except GateFailed as refused:
        summary["promoted"] = False
        summary["refused"] = [str(f) for f in getattr(refused.results, "failures", [])]
    monitoring.set_reference(MODEL, version.version, rows, target=TARGET)
    result = mloop.evaluate(f"models:/{MODEL}/{version.version}", rows, target=TARGET, log=False)
    summary["roc_auc"] = float(result.metrics["roc_auc"])
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _categories(train: pd.DataFrame) -> dict[str, list[str]]:
    return {c: sorted(str(v) for v in train[c].dropna().unique()) for c in CATEGORIES}


def _train_booster(train: pd.DataFrame, folder: Path) -> tuple[str, dict[str, str]]:
    import xgboost

    from mloop.demo.challenger_models.delay_xgb import encode  # imports xgboost (heavy)

    encoding = {"features": FEATURES, "categories": _categories(train)}
    matrix = xgboost.DMatrix(encode(train, encoding), label=train[TARGET])
    params = {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 1}
    booster = xgboost.train(params, matrix, num_boost_round=150)
    folder.mkdir(parents=True)
    booster.save_model(folder / "booster.ubj")
    (folder / "encoding.json").write_text(json.dumps(encoding))
    artifacts = {"booster": str(folder / "booster.ubj"), "encoding": str(folder / "encoding.json")}
    return str(XGB_FILE), artifacts


def _train_mlp(train: pd.DataFrame, folder: Path) -> tuple[str, dict[str, str]]:
    import torch
    from safetensors.torch import save_file

    from mloop.demo.challenger_models.delay_mlp import Net, encode  # imports torch (heavy)

    numbers = [f for f in FEATURES if f not in CATEGORIES]
    values = train[numbers].astype("float64")
    categories = _categories(train)
    encoding: dict[str, Any] = {
        "numbers": numbers,
        "mean": {n: float(values[n].mean()) for n in numbers},
        "std": {n: float(values[n].std()) or 1.0 for n in numbers},
        "categories": categories,
        "hidden": 32,
    }
    encoding["inputs"] = len(numbers) + sum(len(c) for c in categories.values())
    x = encode(train, encoding)
    y = torch.tensor(train[TARGET].to_numpy(), dtype=torch.float32)
    torch.manual_seed(0)
    net = Net(encoding["inputs"], encoding["hidden"])
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    loss = torch.nn.BCEWithLogitsLoss()
    for _ in range(6):  # epochs
        order = torch.randperm(len(x))
        for start in range(0, len(x), 512):
            batch = order[start : start + 512]
            optimizer.zero_grad()
            loss(net(x[batch]), y[batch]).backward()
            optimizer.step()
    folder.mkdir(parents=True)
    save_file(net.state_dict(), str(folder / "weights.safetensors"))
    (folder / "encoding.json").write_text(json.dumps(encoding))
    artifacts = {
        "weights": str(folder / "weights.safetensors"),
        "encoding": str(folder / "encoding.json"),
    }
    return str(MLP_FILE), artifacts
