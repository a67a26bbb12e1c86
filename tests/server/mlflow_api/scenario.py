"""A user's MLflow script, run with the stock ``mlflow`` client against mloop's MLflow API.

Runs in the client's own environment (see client.py) with ``MLFLOW_TRACKING_URI``
set; prints what it saw as one JSON object on its last line for the test to check.
"""

import json
import sys
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

MODEL = sys.argv[1]
seen = {}

experiment = mlflow.set_experiment("mlflow-compat")
seen["experiment_id"] = experiment.experiment_id
mlflow.set_experiment("mlflow-compat")  # the second time it exists: get-by-name finds it

rng = np.random.default_rng(0)
X = pd.DataFrame({"x1": rng.normal(size=200), "x2": rng.normal(size=200)})
y = (X["x1"] + 0.5 * X["x2"] > 0).astype(int)

client = MlflowClient()
with mlflow.start_run(run_name="parent") as parent:
    run_id = parent.info.run_id
    mlflow.log_param("model", "logreg")
    mlflow.log_params({"C": "1.0", "penalty": "l2"})
    for step, loss in enumerate([0.9, 0.5, 0.3]):
        mlflow.log_metric("loss", loss, step=step)
    mlflow.log_metrics({"acc": 0.8, "f1": 0.7})
    mlflow.set_tag("team", "ops")
    client.log_batch(run_id, metrics=[Metric("lr", 0.1 / (i + 1), 0, i) for i in range(50)])
    try:
        mlflow.log_param("model", "tree")
    except MlflowException as error:
        seen["param_change"] = error.error_code
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("loss", 0.2)
        seen["child_id"] = child.info.run_id

    with tempfile.TemporaryDirectory() as folder:
        notes = Path(folder) / "notes.txt"
        notes.write_text("trained on synthetic data\n")
        mlflow.log_artifact(str(notes), artifact_path="docs")
        seen["artifacts"] = [f.path for f in client.list_artifacts(run_id, "docs")]
        back = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="docs/notes.txt", dst_path=folder + "/back"
        )
        seen["artifact_text"] = Path(back).read_text()

    model = LogisticRegression().fit(X, y)
    info = mlflow.sklearn.log_model(
        model, name="model", registered_model_name=MODEL, input_example=X.head(3)
    )
    seen["registered_version"] = info.registered_model_version
    seen["expected"] = model.predict_proba(X.head(5))[:, 1].tolist()
    seen["inputs"] = X.head(5).to_dict(orient="list")

seen["run_id"] = run_id
client.set_registered_model_alias(MODEL, "champion", info.registered_model_version)
seen["alias_version"] = client.get_model_version_by_alias(MODEL, "champion").version
loaded = mlflow.sklearn.load_model(f"models:/{MODEL}@champion")
seen["loaded"] = loaded.predict_proba(X.head(5))[:, 1].tolist()

found = mlflow.search_runs(
    experiment_names=["mlflow-compat"],
    filter_string="metrics.loss < 0.5",
    order_by=["metrics.loss ASC"],
)
seen["search"] = found["run_id"].tolist()
seen["search_params"] = mlflow.search_runs(
    experiment_names=["mlflow-compat"], filter_string="params.model = 'logreg'"
)["run_id"].tolist()
seen["history"] = [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")]
finished = client.get_run(run_id)
seen["status"] = finished.info.status
seen["tags"] = {k: v for k, v in finished.data.tags.items() if k in ("team", "mlflow.runName")}
seen["child_parent"] = client.get_run(seen["child_id"]).data.tags.get("mlflow.parentRunId")
try:
    client.get_run("0" * 32)
except MlflowException as error:
    seen["missing_run"] = error.error_code
print(json.dumps(seen))
