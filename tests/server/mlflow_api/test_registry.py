"""MLflow's registry, logged-model and artifact calls on mloop's stores, in process."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.core.errors import InvalidInput
from tests.server.mlflow_api.calls import API, error, experiment, new_run, ok

FILES = "/api/2.0/mlflow-artifacts/artifacts"


def mlmodel(model_file: str, fmt: str) -> bytes:
    """An MLmodel file as MLflow 3 writes it for a scikit-learn model."""
    signature = {
        "inputs": '[{"type": "double", "name": "x1", "required": true}, '
        '{"type": "double", "name": "x2", "required": true}]',
        "outputs": '[{"type": "long", "required": true}]',
    }
    document = {
        "mlflow_version": "3.18.0",
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "model_path": model_file},
            "sklearn": {
                "pickled_model": model_file,
                "serialization_format": fmt,
                "sklearn_version": "1.9.1",
            },
        },
        "signature": signature,
    }
    return yaml.safe_dump(document).encode()


def fitted() -> tuple[LogisticRegression, pd.DataFrame]:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x1": rng.normal(size=80), "x2": rng.normal(size=80)})
    return LogisticRegression().fit(frame, (frame["x1"] > 0).astype(int)), frame


def logged_model(
    client: TestClient, experiment_id: str, run_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"experiment_id": experiment_id, "name": "model", "model_type": "sk"}
    if run_id:
        body["source_run_id"] = run_id
    info: dict[str, Any] = ok(client.post(f"{API}/logged-models", json=body))["model"]["info"]
    return info


def test_a_skops_model_registered_by_mlflow_loads_with_mloop(client: TestClient) -> None:
    experiment_id = experiment(client)
    run_id = new_run(client, experiment_id)
    info = logged_model(client, experiment_id, run_id)
    model_id = info["model_id"]
    assert info["artifact_uri"] == f"mlflow-artifacts:/logged_models/{model_id}/artifacts"
    model, frame = fitted()
    folder = f"{FILES}/logged_models/{model_id}/artifacts"
    ok(client.put(f"{folder}/model.skops", content=sio.dumps(model)))
    ok(client.put(f"{folder}/MLmodel", content=mlmodel("model.skops", "skops")))
    ready = {"status": "LOGGED_MODEL_READY"}
    assert (
        ok(client.patch(f"{API}/logged-models/{model_id}", json=ready))["model"]["info"]["status"]
        == "LOGGED_MODEL_READY"
    )

    ok(client.post(f"{API}/registered-models/create", json={"name": "delays"}))
    created = ok(
        client.post(
            f"{API}/model-versions/create",
            json={"name": "delays", "source": f"models:/{model_id}", "model_id": model_id},
        )
    )["model_version"]
    assert created["version"] == "1" and created["run_id"] == run_id
    assert created["model_id"] == model_id and created["status"] == "READY"
    assert created["source"] == f"mlflow-artifacts:/logged_models/{model_id}/artifacts"

    loaded = mloop.load_model("models:/delays/1")
    assert loaded.flavor == "sklearn"
    assert loaded.signature is not None and loaded.signature.input_names == ["x1", "x2"]
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    uri = ok(
        client.get(
            f"{API}/model-versions/get-download-uri", params={"name": "delays", "version": "1"}
        )
    )
    assert uri["artifact_uri"] == created["source"]


def test_a_pickled_model_is_registered_but_never_unpickled(
    client: TestClient, tmp_path: Path
) -> None:
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))  # creates the marker if anyone unpickles it

    run_id = new_run(client, experiment(client))
    base = f"{FILES}/runs/{run_id}/artifacts/model"
    ok(client.put(f"{base}/model.pkl", content=pickle.dumps(Payload())))
    ok(client.put(f"{base}/MLmodel", content=mlmodel("model.pkl", "cloudpickle")))
    created = ok(
        client.post(
            f"{API}/model-versions/create",
            json={"name": "risky", "source": f"runs:/{run_id}/model"},
        )
    )["model_version"]
    tags = {t["key"]: t["value"] for t in created["tags"]}
    assert tags["mloop.loadable"].startswith("no: MLflow saved it as cloudpickle")
    with pytest.raises(InvalidInput, match="not a readable skops file"):
        mloop.load_model("models:/risky/1")
    assert not marker.exists()


def test_registered_models_versions_aliases_and_tags(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    base = f"{FILES}/runs/{run_id}/artifacts/model"
    model, _ = fitted()
    ok(client.put(f"{base}/model.skops", content=sio.dumps(model)))
    ok(client.put(f"{base}/MLmodel", content=mlmodel("model.skops", "skops")))
    ok(
        client.post(
            f"{API}/registered-models/create",
            json={"name": "m", "description": "first", "tags": [{"key": "team", "value": "ops"}]},
        )
    )
    error(
        client.post(f"{API}/registered-models/create", json={"name": "m"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    source = f"mlflow-artifacts:/runs/{run_id}/artifacts/model"
    for _ in range(2):
        ok(
            client.post(
                f"{API}/model-versions/create",
                json={"name": "m", "source": source, "run_id": run_id},
            )
        )

    ok(
        client.post(
            f"{API}/registered-models/alias",
            json={"name": "m", "alias": "champion", "version": "1"},
        )
    )
    by_alias = ok(
        client.get(f"{API}/registered-models/alias", params={"name": "m", "alias": "champion"})
    )
    assert by_alias["model_version"]["version"] == "1" and by_alias["model_version"]["aliases"] == [
        "champion"
    ]
    assert mloop.registry.get_version("m", "champion").version == 1
    got = ok(client.get(f"{API}/registered-models/get", params={"name": "m"}))["registered_model"]
    assert got["aliases"] == [{"alias": "champion", "version": "1"}]
    assert got["latest_versions"][0]["version"] == "2" and got["description"] == "first"
    ok(
        client.request(
            "DELETE", f"{API}/registered-models/alias", json={"name": "m", "alias": "champion"}
        )
    )
    error(
        client.get(f"{API}/registered-models/alias", params={"name": "m", "alias": "champion"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )

    ok(client.patch(f"{API}/registered-models/update", json={"name": "m", "description": "second"}))
    ok(
        client.post(
            f"{API}/registered-models/set-tag", json={"name": "m", "key": "tier", "value": "1"}
        )
    )
    ok(
        client.request(
            "DELETE", f"{API}/registered-models/delete-tag", json={"name": "m", "key": "team"}
        )
    )
    got = ok(client.get(f"{API}/registered-models/get", params={"name": "m"}))["registered_model"]
    assert got["description"] == "second" and got["tags"] == [{"key": "tier", "value": "1"}]

    version = {"name": "m", "version": "2", "key": "stage", "value": "qa"}
    ok(client.post(f"{API}/model-versions/set-tag", json=version))
    ok(
        client.patch(
            f"{API}/model-versions/update",
            json={"name": "m", "version": "2", "description": "tuned"},
        )
    )
    got_version = ok(client.get(f"{API}/model-versions/get", params={"name": "m", "version": "2"}))[
        "model_version"
    ]
    assert got_version["description"] == "tuned" and got_version["tags"] == [
        {"key": "stage", "value": "qa"}
    ]
    ok(client.request("DELETE", f"{API}/model-versions/delete-tag", json=version))
    found = ok(
        client.get(
            f"{API}/model-versions/search", params={"filter": f"name = 'm' and run_id = '{run_id}'"}
        )
    )
    assert [v["version"] for v in found["model_versions"]] == ["2", "1"]
    assert "run_id" in error(
        client.get(f"{API}/model-versions/search", params={"filter": "tags.x = 'y'"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    models = ok(client.get(f"{API}/registered-models/search", params={"filter": "name LIKE 'm%'"}))
    assert [m["name"] for m in models["registered_models"]] == ["m"]

    ok(client.request("DELETE", f"{API}/model-versions/delete", json={"name": "m", "version": "1"}))
    error(
        client.get(f"{API}/model-versions/get", params={"name": "m", "version": "1"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    ok(client.request("DELETE", f"{API}/registered-models/delete", json={"name": "m"}))
    error(
        client.get(f"{API}/registered-models/get", params={"name": "m"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert "version number" in error(
        client.get(f"{API}/model-versions/get", params={"name": "m", "version": "x"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_a_version_source_outside_the_api_is_refused(client: TestClient) -> None:
    ok(client.post(f"{API}/registered-models/create", json={"name": "m"}))
    for source, status, code in [
        ("s3://bucket/model", 400, "INVALID_PARAMETER_VALUE"),
        ("mlflow-artifacts:/datasets/x", 403, "PERMISSION_DENIED"),
        ("mlflow-artifacts:/runs/../../etc", 400, "INVALID_PARAMETER_VALUE"),
        (f"models:/m-{'0' * 32}", 404, "RESOURCE_DOES_NOT_EXIST"),
    ]:
        error(
            client.post(f"{API}/model-versions/create", json={"name": "m", "source": source}),
            status,
            code,
        )


def test_logged_models_are_tagged_searched_listed_and_deleted(client: TestClient) -> None:
    experiment_id = experiment(client)
    run_id = new_run(client, experiment_id)
    model_id = logged_model(client, experiment_id, run_id)["model_id"]
    other = logged_model(client, experiment(client, "other"))["model_id"]
    url = f"{API}/logged-models/{model_id}"
    ok(client.patch(f"{url}/tags", json={"tags": [{"key": "k", "value": "v"}]}))
    ok(client.post(f"{url}/params", json={"params": [{"key": "alpha", "value": "0.5"}]}))
    got = ok(client.get(url))["model"]
    assert (
        got["info"]["tags"] == [{"key": "k", "value": "v"}]
        and got["info"]["source_run_id"] == run_id
    )
    assert got["data"]["params"] == [{"key": "alpha", "value": "0.5"}]
    ok(client.request("DELETE", f"{url}/tags/k"))
    error(client.request("DELETE", f"{url}/tags/k"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert "LOGGED_MODEL_READY" in error(
        client.patch(url, json={"status": "DONE"}), 400, "INVALID_PARAMETER_VALUE"
    )

    search = {
        "experiment_ids": [experiment_id],
        "filter": f"name = 'model' AND source_run_id = '{run_id}'",
    }
    found = ok(client.post(f"{API}/logged-models/search", json=search))["models"]
    assert [m["info"]["model_id"] for m in found] == [model_id]
    assert other not in [m["info"]["model_id"] for m in found]
    error(
        client.post(f"{API}/logged-models/search", json={"filter": "metrics.x > 1"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    ok(client.put(f"{FILES}/logged_models/{model_id}/artifacts/sub/a.txt", content=b"abc"))
    listed = ok(client.get(f"{url}/artifacts/directories"))
    assert listed["files"] == [{"path": "sub", "is_dir": True}]
    ok(
        client.post(
            f"{API}/runs/outputs",
            json={"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]},
        )
    )
    error(
        client.post(
            f"{API}/runs/outputs",
            json={"run_id": run_id, "models": [{"model_id": other[:-1] + "x"}]},
        ),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    ok(client.request("DELETE", url))
    error(client.get(url), 404, "RESOURCE_DOES_NOT_EXIST")


def test_artifacts_stream_in_and_out_and_nothing_escapes(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    root = f"runs/{run_id}/artifacts"
    payload = bytes(range(256)) * 8192  # 2 MiB: more than one chunk each way
    ok(client.put(f"{FILES}/{root}/data/blob.bin", content=payload))
    ok(client.put(f"{FILES}/{root}/notes.txt", content=b"hello"))
    downloaded = client.get(f"{FILES}/{root}/data/blob.bin")
    assert downloaded.status_code == 200 and downloaded.content == payload
    listed = ok(client.get(FILES, params={"path": root}))["files"]
    assert listed == [
        {"path": "data", "is_dir": True},
        {"path": "notes.txt", "is_dir": False, "file_size": 5},
    ]
    assert ok(client.get(FILES, params={"path": f"{root}/data"}))["files"] == [
        {"path": "blob.bin", "is_dir": False, "file_size": len(payload)}
    ]
    ok(client.request("DELETE", f"{FILES}/{root}/notes.txt"))
    error(client.get(f"{FILES}/{root}/notes.txt"), 404, "RESOURCE_DOES_NOT_EXIST")

    assert "'..'" in error(
        client.get(f"{FILES}/{root}/%2e%2e/%2e%2e/x"), 400, "INVALID_PARAMETER_VALUE"
    )
    error(
        client.put(f"{FILES}/{root}/..%2f..%2f..%2fevil", content=b"x"),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error(client.get(f"{FILES}/objects/ab/secret"), 403, "PERMISSION_DENIED")
    error(client.get(FILES, params={"path": ""}), 403, "PERMISSION_DENIED")
    error(
        client.put(f"{FILES}/runs/{'0' * 32}/artifacts/x", content=b"x"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    clash = error(client.put(f"{FILES}/{root}/data", content=b"x"), 400, "INVALID_PARAMETER_VALUE")
    assert "folder" in clash  # a file where a folder is
    under_a_file = client.put(f"{FILES}/{root}/data/blob.bin/inner", content=b"x")
    error(under_a_file, 400, "INVALID_PARAMETER_VALUE")
