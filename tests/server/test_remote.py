"""The HTTP client of the store (``mloop.store.remote``) against a live server on a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from mloop.core.errors import NotFound, StoreUnavailable
from mloop.server.app import create_app
from mloop.server.auth import accounts, tokens
from mloop.store import get_store
from mloop.store.remote import AccessDenied, RemoteStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live(db_url: str) -> Iterator[tuple[str, str]]:
    """A server with auth on (over SQLite, then PostgreSQL), in a thread; URL and a token."""
    accounts.create(get_store(), "ada", password="ada-password-1")
    secret, _ = tokens.create(get_store(), "ada", ["read", "write"])
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", secret
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _requests(remote: RemoteStore, route: str) -> float:
    text = remote._http.get("/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("mloop_server_requests_total{") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_one_flush_is_one_request_and_the_run_belongs_to_the_token_user(
    live: tuple[str, str], tmp_path: Path
) -> None:
    url, secret = live
    remote = RemoteStore(url, secret)
    experiment = remote.create_experiment("remote")
    run_id = "b" * 32
    metrics = [(run_id, "loss", 1.0 / (s + 1), s, 1000 + s) for s in range(500)]
    conflicts = remote.write_batch(
        created=[{"experiment_id": experiment["experiment_id"], "run_id": run_id, "tags": {}}],
        params=[(run_id, "lr", "0.1")],
        metrics=metrics,
        ended=[(run_id, "FINISHED", 5000)],
    )
    assert conflicts == []
    assert _requests(remote, "/api/v1/runs/batch") == 1
    run = remote.get_run(run_id)
    assert run["info"]["user_id"] == "ada" and run["info"]["status"] == "FINISHED"
    assert len(remote.metric_history(run_id, "loss")) == 500
    assert [r["info"]["run_id"] for r in remote.search_runs(filter_string="params.lr = '0.1'")] == [
        run_id
    ]
    source = tmp_path / "notes.txt"
    source.write_text("hello")
    remote.upload_artifact(run_id, "docs/notes.txt", source)
    copy = remote.download_artifact(run_id, "docs/notes.txt", tmp_path / "copy.txt")
    assert copy.read_text() == "hello"
    with pytest.raises(NotFound, match=r"nope\.txt"):
        remote.download_artifact(run_id, "nope.txt", tmp_path / "x")


def test_search_pages_through_every_match(live: tuple[str, str]) -> None:
    url, secret = live
    remote = RemoteStore(url, secret)
    experiment = remote.create_experiment("paged")["experiment_id"]
    created = [{"experiment_id": experiment, "run_id": f"{i:032x}"} for i in range(25)]
    remote.write_batch(created=created)
    found = list(remote.search_runs([experiment], page_size=10, max_results=1000))
    assert sorted(r["info"]["run_id"] for r in found) == [f"{i:032x}" for i in range(25)]


def test_a_bad_token_and_an_unreachable_server_are_clear_errors(live: tuple[str, str]) -> None:
    url, _ = live
    with pytest.raises(AccessDenied, match="not valid"):
        RemoteStore(url, "mlp_" + "z" * 43).get_run("x")
    port = _free_port()
    dead = RemoteStore(f"http://127.0.0.1:{port}", retries=2, backoff=0.01)
    with pytest.raises(StoreUnavailable, match=f"127\\.0\\.0\\.1:{port} is unreachable"):
        dead.get_run("x")


def test_the_fluent_api_works_through_the_server_with_no_code_change(
    live: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mloop

    url, secret = live
    monkeypatch.setenv("MLOOP_TRACKING_URI", url)
    monkeypatch.setenv("MLOOP_TOKEN", secret)
    monkeypatch.setenv("MLOOP_USER", "mallory")  # a self-declared name the server ignores
    mloop.set_experiment("through-the-server")
    with mloop.start_run(run_name="remote", log_system_info=False) as run:
        mloop.log_params({"model": "rf", "depth": 8})
        for step in range(1000):
            mloop.log_metric("loss", 1.0 / (step + 1), step=step)
        mloop.set_tag("team", "delays")
        mloop.log_text("hello", "notes/hello.txt")
    run_id = run.info.run_id
    stored = mloop.get_run(run_id)
    assert stored.info.user_id == "ada" and stored.info.status == "FINISHED"
    assert stored.data.params == {"model": "rf", "depth": "8"}
    assert stored.data.metrics["loss"] == 1.0 / 1000
    assert stored.data.tags["team"] == "delays"
    client = mloop.Client()
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(1000))
    frame = mloop.search_runs(filter_string="params.model = 'rf'", order_by=["metrics.loss"])
    assert list(frame["run_id"]) == [run_id]
    assert client.list_artifacts(run_id) == ["notes/hello.txt"]
    copy = client.download_artifacts(run_id, "notes/hello.txt", tmp_path)
    assert copy.read_text() == "hello"
    # 1000 values and the run's creation and end travelled in a few batches, not per call
    batches = _requests(RemoteStore(url, secret), "/api/v1/runs/batch")
    assert 1 <= batches <= 5


def test_32_concurrent_clients_lose_no_value(live: tuple[str, str]) -> None:
    url, secret = live
    experiment = RemoteStore(url, secret).create_experiment("crowd")["experiment_id"]
    errors: list[BaseException] = []

    def client(index: int) -> None:
        remote = RemoteStore(url, secret)
        run_id = f"{index:032x}"
        try:
            remote.write_batch(created=[{"experiment_id": experiment, "run_id": run_id}])
            for chunk in range(4):
                metrics = [
                    (run_id, "v", float(s), s, 1) for s in range(chunk * 50, chunk * 50 + 50)
                ]
                remote.write_batch(metrics=metrics)
        except BaseException as exc:
            errors.append(exc)
        finally:
            remote.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    remote = RemoteStore(url, secret)
    for index in range(32):
        history = remote.metric_history(f"{index:032x}", "v")
        assert [m["step"] for m in history] == list(range(200)), index


def test_the_registry_works_through_the_server(
    live: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import mloop

    url, secret = live
    monkeypatch.setenv("MLOOP_TRACKING_URI", url)
    monkeypatch.setenv("MLOOP_TOKEN", secret)
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    mloop.set_experiment("registry-remote")
    with mloop.start_run(log_system_info=False):
        info = mloop.log_model(model, "model", registered_model_name="delays")
    assert info.registered_model_version is not None
    client = mloop.Client()
    assert client.get_registered_model("delays").latest_version == 1
    with pytest.raises(AccessDenied, match="protected"):
        client.set_registered_model_alias("delays", "champion", 1)  # ada is an editor
    client.set_registered_model_alias("delays", "candidate", 1)
    assert client.get_model_version_by_alias("delays", "candidate").version == 1
    loaded = mloop.load_model("models:/delays@candidate")
    assert list(loaded.predict(X)) == list(model.predict(X))
    # what the server stored is ordinary mloop data, with the token's user
    monkeypatch.delenv("MLOOP_TRACKING_URI")
    version = mloop.registry.get_version("delays", "candidate")
    assert version.user_id == "ada" and version.source.endswith("/model")
