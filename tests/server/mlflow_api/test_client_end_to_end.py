"""The stock ``mlflow`` client (3.x) against mloop's MLflow API, as a user's script runs it.

One scenario (scenario.py) covers the issue's list; this test then checks that what
the client stored is ordinary mloop data: the run in ``mloop.search_runs`` under the
authenticated user, the model loaded by ``mloop.load_model`` with the same predictions, and served.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop.serving import Graph
from mloop.store import get_store, lineage
from tests.server.mlflow_api.app import PRINCIPAL, make_app, running
from tests.server.mlflow_api.client import run_client

SCENARIO = Path(__file__).with_name("scenario.py")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the first run installs the MLflow client (minutes)
def test_the_stock_mlflow_client_logs_registers_and_loads_through_mloop() -> None:
    with running(make_app(token="s3cret")) as url:  # every call, uploads included, must carry it
        seen = run_client(SCENARIO, url, "compat-model", token="s3cret")

    # what the client saw
    assert seen["param_change"] == "INVALID_PARAMETER_VALUE"
    assert seen["artifacts"] == ["docs/notes.txt"]
    assert seen["artifact_text"] == "trained on synthetic data\n"
    assert seen["registered_version"] == "1" and seen["alias_version"] == "1"
    np.testing.assert_allclose(seen["loaded"], seen["expected"], rtol=0, atol=0)
    assert seen["search"] == [seen["child_id"], seen["run_id"]]  # loss 0.2, then 0.3
    assert seen["search_params"] == [seen["run_id"]]
    assert seen["history"] == [[0, 0.9], [1, 0.5], [2, 0.3]]  # the model link adds none
    assert seen["status"] == "FINISHED"
    assert seen["tags"] == {"mlflow.runName": "parent", "team": "ops"}
    assert seen["child_parent"] == seen["run_id"]
    assert seen["missing_run"] == "RESOURCE_DOES_NOT_EXIST"

    # what mloop sees: ordinary runs, recorded under the authenticated principal
    frame = mloop.search_runs(
        experiment_names=["mlflow-compat"], filter_string="params.model = 'logreg'"
    )
    assert isinstance(frame, pd.DataFrame)
    assert frame["run_id"].tolist() == [seen["run_id"]]
    row = frame.iloc[0]
    assert row["metrics.loss"] == 0.3 and row["metrics.acc"] == 0.8
    assert row["params.C"] == "1.0" and row["tags.team"] == "ops"
    run = mloop.get_run(seen["run_id"])
    assert run.info.user_id == PRINCIPAL.name
    assert run.data.tags["mloop.user"] == PRINCIPAL.name
    assert [m.value for m in mloop.get_metric_history(seen["run_id"], "lr")][:2] == [0.1, 0.05]
    assert mloop.get_run(seen["child_id"]).info.parent_run_id == seen["run_id"]

    # the registered model loads with mloop (skops, through its trust rules)
    model = mloop.load_model("models:/compat-model@champion")
    assert model.flavor == "sklearn"
    assert [c.name for c in model.signature.inputs] == ["x1", "x2"]
    proba = model.predict_proba(pd.DataFrame(seen["inputs"]))[:, 1]
    np.testing.assert_allclose(proba, seen["expected"], rtol=1e-12)
    with Graph.from_model("models:/compat-model@champion").test_client(log=False) as served:
        answer = served.predict({"records": pd.DataFrame(seen["inputs"]).to_dict("records")})
    assert answer["predictions"] == model.predict(pd.DataFrame(seen["inputs"])).tolist()
    version = mloop.registry.get_version("compat-model", "champion")
    assert version.run_id == seen["run_id"]
    produced = {
        e.target for e in lineage.downstream(get_store(), lineage.Node("run", seen["run_id"]))
    }
    assert lineage.Node("model_version", "compat-model/1") in produced
