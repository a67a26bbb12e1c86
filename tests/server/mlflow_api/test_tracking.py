"""MLflow's experiment, run and search calls on mloop's stores, in process (FastAPI TestClient)."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

import mloop
from tests.server.mlflow_api.app import PRINCIPAL, make_app
from tests.server.mlflow_api.calls import API, error, experiment, new_run, ok


def test_experiments_are_created_found_by_name_and_id_and_refused_twice(client: TestClient) -> None:
    experiment_id = experiment(client, "delays")
    by_name = ok(client.get(f"{API}/experiments/get-by-name", params={"experiment_name": "delays"}))
    by_id = ok(client.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}))
    assert by_name == by_id
    assert by_id["experiment"]["name"] == "delays"
    assert (
        by_id["experiment"]["artifact_location"] == f"mlflow-artifacts:/experiments/{experiment_id}"
    )
    message = error(
        client.post(f"{API}/experiments/create", json={"name": "delays"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert "'delays'" in message
    missing = client.get(f"{API}/experiments/get-by-name", params={"experiment_name": "nope"})
    error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_experiments_rename_delete_restore_and_tags(client: TestClient) -> None:
    experiment_id = experiment(client, "old")
    ok(
        client.post(
            f"{API}/experiments/update", json={"experiment_id": experiment_id, "new_name": "new"}
        )
    )
    assert mloop.get_experiment_by_name("new").experiment_id == experiment_id
    tag = {"experiment_id": experiment_id, "key": "team", "value": "ops"}
    ok(client.post(f"{API}/experiments/set-experiment-tag", json=tag))
    got = ok(client.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}))
    assert got["experiment"]["tags"] == [{"key": "team", "value": "ops"}]
    ok(client.post(f"{API}/experiments/delete-experiment-tag", json=tag))
    error(
        client.post(f"{API}/experiments/delete-experiment-tag", json=tag),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )

    ok(client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}))
    active = ok(client.post(f"{API}/experiments/search", json={}))["experiments"]
    assert experiment_id not in [e["experiment_id"] for e in active]
    deleted = ok(client.post(f"{API}/experiments/search", json={"view_type": "DELETED_ONLY"}))
    assert [e["experiment_id"] for e in deleted["experiments"]] == [experiment_id]
    error(
        client.post(f"{API}/runs/create", json={"experiment_id": experiment_id}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    ok(client.post(f"{API}/experiments/restore", json={"experiment_id": experiment_id}))
    new_run(client, experiment_id)


def test_experiment_search_filters_names_and_pages(client: TestClient) -> None:
    for name in ("fraud-a", "fraud-b", "fraud-c", "churn"):
        experiment(client, name)
    first = ok(
        client.post(
            f"{API}/experiments/search",
            json={"filter": "name LIKE 'fraud-%'", "max_results": 2, "order_by": ["name ASC"]},
        )
    )
    assert [e["name"] for e in first["experiments"]] == ["fraud-a", "fraud-b"]
    second = ok(
        client.post(
            f"{API}/experiments/search",
            json={
                "filter": "name LIKE 'fraud-%'",
                "max_results": 2,
                "order_by": ["name ASC"],
                "page_token": first["next_page_token"],
            },
        )
    )
    assert [e["name"] for e in second["experiments"]] == ["fraud-c"]
    assert "next_page_token" not in second
    message = error(
        client.post(f"{API}/experiments/search", json={"filter": "tags.x = 'y'"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "name LIKE" in message


def test_a_run_records_the_principal_not_the_user_the_client_declares(client: TestClient) -> None:
    experiment_id = experiment(client)
    parent = new_run(client, experiment_id, run_name="parent")
    tags = [
        {"key": "mlflow.user", "value": "mallory"},
        {"key": "mlflow.parentRunId", "value": parent},
    ]
    body = ok(
        client.post(
            f"{API}/runs/create",
            json={
                "experiment_id": experiment_id,
                "user_id": "mallory",
                "tags": tags,
                "start_time": "1700000000000",
            },
        )
    )
    info = body["run"]["info"]
    assert info["user_id"] == PRINCIPAL.name
    assert info["start_time"] == 1_700_000_000_000
    assert info["artifact_uri"] == f"mlflow-artifacts:/runs/{info['run_id']}/artifacts"
    shown = {t["key"]: t["value"] for t in body["run"]["data"]["tags"]}
    assert shown["mlflow.user"] == PRINCIPAL.name
    assert shown["mlflow.parentRunId"] == parent
    assert mloop.get_run(info["run_id"]).info.parent_run_id == parent
    error(
        client.post(f"{API}/runs/create", json={"experiment_id": "999"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_logged_values_are_committed_and_read_back_in_mlflow_form(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    # MLflow's JSON writes int64 as strings and non-finite doubles as words
    metric = {
        "run_id": run_id,
        "key": "loss",
        "value": "NaN",
        "timestamp": "1700000000000",
        "step": "3",
    }
    ok(client.post(f"{API}/runs/log-metric", json=metric))
    ok(client.post(f"{API}/runs/log-metric", json={**metric, "key": "gain", "value": "Infinity"}))
    ok(
        client.post(
            f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.1"}
        )
    )
    ok(
        client.post(
            f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.1"}
        )
    )
    ok(
        client.post(
            f"{API}/runs/set-tag",
            json={"run_id": run_id, "key": "mlflow.runName", "value": "renamed"},
        )
    )
    run = ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["loss"] == {
        "key": "loss",
        "value": "NaN",
        "timestamp": 1_700_000_000_000,
        "step": 3,
    }
    assert metrics["gain"]["value"] == "Infinity"
    assert run["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert run["info"]["run_name"] == "renamed"
    assert mloop.get_run(run_id).info.run_name == "renamed"  # committed, not buffered

    message = error(
        client.post(
            f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.2"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "'lr'" in message and "'0.1'" in message and "immutable" in message
    missing = error(
        client.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "x"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "'value'" in missing
    bad_name = error(
        client.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "a|b", "value": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "'a|b'" in bad_name


def test_log_batch_writes_everything_or_explains_the_limit(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    batch = {
        "run_id": run_id,
        "metrics": [
            {"key": "acc", "value": 0.5 + i / 100, "timestamp": 1000 + i, "step": i}
            for i in range(10)
        ],
        "params": [{"key": "depth", "value": "6"}],
        "tags": [{"key": "team", "value": "ops"}],
    }
    ok(client.post(f"{API}/runs/log-batch", json=batch))
    history = [m.value for m in mloop.get_metric_history(run_id, "acc")]
    assert history == [0.5 + i / 100 for i in range(10)]
    assert mloop.get_run(run_id).data.params == {"depth": "6"}

    too_many = {"run_id": run_id, "params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}
    assert "limit is 100" in error(
        client.post(f"{API}/runs/log-batch", json=too_many), 400, "INVALID_PARAMETER_VALUE"
    )
    twice = {"run_id": run_id, "params": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}
    assert "twice" in error(
        client.post(f"{API}/runs/log-batch", json=twice), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "k" not in mloop.get_run(run_id).data.params  # nothing of a refused batch is kept


def test_deleted_and_missing_runs_refuse_values(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    ok(client.post(f"{API}/runs/delete", json={"run_id": run_id}))
    value = {"run_id": run_id, "key": "loss", "value": 1.0}
    assert "restore" in error(
        client.post(f"{API}/runs/log-metric", json=value), 400, "INVALID_PARAMETER_VALUE"
    )
    ok(client.post(f"{API}/runs/restore", json={"run_id": run_id}))
    ok(client.post(f"{API}/runs/log-metric", json=value))
    missing = {**value, "run_id": "0" * 32}
    error(client.post(f"{API}/runs/log-metric", json=missing), 404, "RESOURCE_DOES_NOT_EXIST")
    error(
        client.get(f"{API}/runs/get", params={"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_update_ends_a_run_and_tags_can_be_deleted(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    ok(client.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "note", "value": "x"}))
    ok(client.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "note"}))
    error(
        client.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "note"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    ended = ok(
        client.post(
            f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 1234}
        )
    )
    assert ended["run_info"]["status"] == "FINISHED" and ended["run_info"]["end_time"] == 1234
    assert "unknown" in error(
        client.post(f"{API}/runs/update", json={"run_id": run_id, "status": "DONE"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_writes_go_through_the_write_dependency_and_reads_through_read(client: TestClient) -> None:
    experiment_id = experiment(client)
    viewer = {"X-Test-Role": "viewer"}
    refused = client.post(
        f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=viewer
    )
    assert refused.status_code == 403
    ok(
        client.get(
            f"{API}/experiments/get", params={"experiment_id": experiment_id}, headers=viewer
        )
    )
    ok(client.post(f"{API}/runs/search", json={"experiment_ids": [experiment_id]}, headers=viewer))


def test_an_unknown_call_names_itself(client: TestClient) -> None:
    message = error(client.post(f"{API}/runs/teleport", json={}), 404, "ENDPOINT_NOT_FOUND")
    assert "/api/2.0/mlflow/runs/teleport" in message


def test_log_model_appends_to_the_run_model_history(client: TestClient) -> None:
    run_id = new_run(client, experiment(client))
    for path in ("model", "other"):
        described = {"artifact_path": path, "flavors": {"sklearn": {}}, "run_id": run_id}
        ok(
            client.post(
                f"{API}/runs/log-model",
                json={"run_id": run_id, "model_json": json.dumps(described)},
            )
        )
    history = json.loads(mloop.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [entry["artifact_path"] for entry in history] == ["model", "other"]
    bad = error(
        client.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": "[1]"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "'model_json'" in bad


def test_a_remote_run_stays_running_between_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_HEARTBEAT_TIMEOUT", "1.5")
    monkeypatch.setenv("MLOOP_HEARTBEAT_INTERVAL", "0.2")
    with TestClient(make_app()) as client:
        run_id = new_run(client, experiment(client))
        time.sleep(2.5)  # no request: only the server's heartbeats keep it alive
        run = ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
        assert run["info"]["status"] == "RUNNING"
        ok(client.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED"}))
        time.sleep(2.0)
        run = ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
        assert run["info"]["status"] == "FINISHED"


def test_out_of_range_numbers_are_client_errors_not_server_errors(client: TestClient) -> None:
    huge = str(2**70)
    error(
        client.get(f"{API}/experiments/get", params={"experiment_id": huge}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    run_id = new_run(client, experiment(client))
    metric = {"run_id": run_id, "key": "m", "value": 1.0, "step": huge}
    assert "'step'" in error(
        client.post(f"{API}/runs/log-metric", json=metric), 400, "INVALID_PARAMETER_VALUE"
    )
    version = {"name": "m", "version": huge}
    error(client.get(f"{API}/model-versions/get", params=version), 400, "INVALID_PARAMETER_VALUE")
    schema = client.get("/openapi.json").json()
    answers = schema["paths"]["/api/2.0/mlflow/runs/log-metric"]["post"]["responses"]
    assert {"400", "404"} <= set(answers)


def test_the_servers_dependencies_guard_every_route() -> None:
    with TestClient(make_app(token="s3cret")) as guarded:
        assert guarded.post(f"{API}/experiments/search", json={}).status_code == 401
        assert guarded.get(f"{API}/nope").status_code == 401  # unknown calls too
        bearer = {"Authorization": "Bearer s3cret"}
        assert guarded.post(f"{API}/experiments/search", json={}, headers=bearer).status_code == 200


def test_experiment_zero_is_the_default_experiment(client: TestClient) -> None:
    run_id = new_run(client, "0")  # what the MLflow client sends when none is set
    default = mloop.get_experiment_by_name("Default")
    assert default is not None
    assert mloop.get_run(run_id).info.experiment_id == default.experiment_id
    shown = ok(client.get(f"{API}/experiments/get", params={"experiment_id": "0"}))["experiment"]
    assert shown["name"] == "Default" and shown["experiment_id"] == default.experiment_id
    found = ok(client.post(f"{API}/runs/search", json={"experiment_ids": ["0"]}))["runs"]
    assert [r["info"]["run_id"] for r in found] == [run_id]
