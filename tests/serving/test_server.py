"""The HTTP server: endpoints, MLflow-compatible payloads, 4xx for every client mistake."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mloop.registry import set_alias
from mloop.server.serving import create_app
from mloop.serving import Limits
from mloop.store.predictions import read_feedback, read_predictions
from tests.serving.conftest import FEATURES, Flights, records, running, train

JSON = {"content-type": "application/json"}


@pytest.fixture
def server(champion: str) -> Iterator[httpx.Client]:
    """A server with its prediction log, on the test's own home."""
    app = create_app(champion, limits=Limits(max_body_bytes=20_000), poll_seconds=0.2)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def shared(shared_home: Path, flights: Flights) -> Iterator[httpx.Client]:
    """One server for the read-only tests of this module (no prediction log)."""
    from mloop import load_model

    set_alias("delays", "champion", train(flights))
    app = create_app("models:/delays@champion", limits=Limits(max_body_bytes=20_000), log=False)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.expected = load_model("models:/delays/1").predict(flights.test.head(4)).tolist()  # type: ignore[attr-defined]
        yield client


def _expected(flights: Flights, rows: int) -> list[int]:
    """What the model answers in-process (the version-1 model, trained deterministically)."""
    from mloop import load_model

    return load_model("models:/delays/1").predict(flights.test.head(rows)).tolist()


def test_predict_answers_predictions_probabilities_version_and_request_ids(
    server: httpx.Client, flights: Flights
) -> None:
    response = server.post(
        "/v1/models/delays/predict",
        json={"records": records(flights.test.head(3))},
        headers={"x-request-id": "abc"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["predictions"] == _expected(flights, 3)
    assert len(body["proba"]) == 3 and all(0 <= p <= 1 for p in body["proba"])
    assert body["model_version"] == "1"
    assert body["request_ids"] == ["abc-0", "abc-1", "abc-2"]


@pytest.mark.parametrize(
    "payload",
    [
        "dataframe_split",
        "dataframe_records",
        "instances_records",
        "instances_lists",
        "inputs_columns",
        "columns_data",
    ],
)
def test_invocations_accepts_every_mlflow_payload_format(
    shared: httpx.Client, flights: Flights, payload: str
) -> None:
    frame = flights.test.head(4)
    rows = frame.values.tolist()
    body = {
        "dataframe_split": {"dataframe_split": {"columns": FEATURES, "data": rows}},
        "dataframe_records": {"dataframe_records": records(frame)},
        "instances_records": {"instances": records(frame)},
        "instances_lists": {"instances": rows},
        "inputs_columns": {"inputs": {c: frame[c].tolist() for c in FEATURES}},
        "columns_data": {"columns": FEATURES, "data": rows},
    }[payload]
    response = shared.post("/invocations", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": shared.expected}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "headers", "status", "message"),
    [
        (b'{"records": [', JSON, 400, "not valid JSON"),
        (b"", JSON, 400, "body is empty"),
        (b'{"records": [{"distance": NaN, "hour": 1, "carrier": "UA"}]}', JSON, 400, "NaN"),
        (b'{"records": []}', {"content-type": "text/plain"}, 415, "Content-Type: application/json"),
        (b'{"records": [{"x": "' + b"a" * 30_000 + b'"}]}', JSON, 413, "over the limit"),
        (b'{"records": [{"hour": 1, "carrier": "UA"}]}', JSON, 422, "field 'distance' is missing"),
        (
            b'{"records": [{"distance": 1.0, "hour": 1, "carrier": "UA", "tail": "N1"}]}',
            JSON,
            422,
            "field 'tail' is not an input",
        ),
        (
            b'{"records": [{"distance": "far", "hour": 1, "carrier": "UA"}]}',
            JSON,
            422,
            "field 'distance' expects double but row 0 holds the string 'far'",
        ),
        (
            b'{"records": [{"distance": 1.0, "hour": 1.5, "carrier": "UA"}]}',
            JSON,
            422,
            "field 'hour' expects long",
        ),
        (
            b'{"records": [{"distance": null, "hour": 1, "carrier": "UA"}]}',
            JSON,
            422,
            "field 'distance' is null in row 0",
        ),
        (b'{"rows": []}', JSON, 422, "unknown field 'rows'"),
        (b"[1, 2]", JSON, 422, "not an object"),
    ],
)
def test_client_mistakes_get_a_4xx_naming_the_problem_and_the_server_keeps_serving(
    shared: httpx.Client,
    flights: Flights,
    content: bytes,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    response = shared.post("/v1/models/delays/predict", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert message in response.json()["message"]
    ok = shared.post("/v1/models/delays/predict", json={"records": records(flights.test.head(1))})
    assert ok.status_code == 200


def test_unknown_model_is_a_404_with_a_suggestion(shared: httpx.Client) -> None:
    response = shared.post("/v1/models/delay/predict", json={"records": [{}]})
    assert response.status_code == 404
    assert "Did you mean 'delays'?" in response.json()["message"]


def test_feedback_endpoint_records_labels_for_request_ids(
    server: httpx.Client, flights: Flights
) -> None:
    answer = server.post(
        "/v1/models/delays/predict", json={"records": records(flights.test.head(2))}
    ).json()
    first, second = answer["request_ids"]
    assert (
        server.post("/v1/feedback", json={"request_id": first, "label": 1}).json()["recorded"] == 1
    )
    server.post("/v1/feedback", json={"request_ids": [first, second], "labels": [0, 1]})
    labels = read_feedback("delays").set_index("request_id")["label"].to_dict()
    assert labels == {first: 0, second: 1}
    bad = server.post("/v1/feedback", json={"request_id": first})
    assert bad.status_code == 422


def test_status_metrics_and_docs_endpoints(server: httpx.Client, flights: Flights) -> None:
    server.post("/v1/models/delays/predict", json={"records": records(flights.test.head(1))})
    server.post("/v1/models/delays/predict", content=b"{", headers=JSON)
    assert server.get("/healthz").json() == {"status": "ok"}
    ready = server.get("/readyz")
    assert ready.status_code == 200 and ready.json()["models"] == {"delays": {"delays": "1"}}
    assert server.get("/v1/models").json() == {"delays": {"delays": "1"}}
    metrics = server.get("/metrics").text
    assert 'mloop_requests_total{model="delays",status="200"} 1.0' in metrics
    assert 'mloop_request_errors_total{model="delays",status="400"} 1.0' in metrics
    assert "mloop_request_latency_seconds_bucket" in metrics
    assert 'mloop_batch_rows_count{model="delays"} 1.0' in metrics
    assert 'mloop_model_version{graph="delays",model="delays"} 1.0' in metrics
    spec = server.get("/openapi.json").json()
    assert {"/v1/models/{name}/predict", "/invocations", "/v1/feedback"} <= set(spec["paths"])
    assert server.get("/docs").status_code == 200


def test_shutdown_drains_in_flight_requests_and_flushes_the_prediction_log(
    champion: str, flights: Flights
) -> None:
    app = create_app(champion, watch=False)
    results: list[int] = []
    with running(app) as url:
        client = httpx.Client(base_url=url, timeout=30)

        def send(i: int) -> None:
            body = {"records": records(flights.test.iloc[i : i + 1]), "request_ids": [f"q{i}"]}
            results.append(client.post("/v1/models/delays/predict", json=body).status_code)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    client.close()
    assert results == [200] * 20
    logged = read_predictions("delays")
    assert sorted(logged["request_id"]) == sorted(f"q{i}" for i in range(20))


def test_a_serving_process_freezes_its_long_lived_heap_at_start_and_after_a_swap(
    champion: str, flights: Flights, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mloop serve`` (``freeze_heap=True``) keeps its modules and models out of the
    cyclic collector's full passes: a full freeze once loaded, another after each swap
    (without the collection pause); an app embedded in another program never freezes."""
    import gc
    import time

    from mloop.server import serving

    calls: list[bool] = []
    real = serving.freeze_long_lived

    def recording(collect: bool) -> None:
        calls.append(collect)
        real(collect)

    monkeypatch.setattr(serving, "freeze_long_lived", recording)
    gc.unfreeze()  # an in-process gateway app of an earlier test may have frozen the heap
    assert gc.get_freeze_count() == 0
    plain = create_app(champion, log=False, watch=False)
    with running(plain):
        assert calls == [] and gc.get_freeze_count() == 0
    app = create_app(champion, log=False, poll_seconds=0.1, freeze_heap=True)
    try:
        with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            assert calls == [True]
            assert gc.get_freeze_count() > 10_000  # the modules and the model
            set_alias("delays", "champion", train(flights, c=0.5))
            deadline = time.monotonic() + 30
            body = {"records": records(flights.test.head(1))}
            while (
                client.post("/v1/models/delays/predict", json=body).json()["model_version"] != "2"
            ):
                assert time.monotonic() < deadline, "the alias move was not picked up"
                time.sleep(0.05)
            deadline = time.monotonic() + 10  # listeners run just after the switch
            while calls == [True]:
                assert time.monotonic() < deadline, "the swap did not freeze the heap"
                time.sleep(0.05)
            assert calls == [True, False]
    finally:
        gc.unfreeze()


def test_docs_page_loads_its_assets_from_the_server_with_an_example_of_the_signature(
    shared: httpx.Client,
) -> None:
    import re

    page = shared.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {a.rsplit("/", 1)[-1] for a in assets} == {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon.png",
    }
    for asset in assets:
        assert asset.startswith("/docs/assets/")  # nothing from a CDN
        fetched = shared.get(asset)
        assert fetched.status_code == 200 and len(fetched.content) > 1000
    assert "SwaggerUIBundle" in shared.get("/docs/assets/swagger-ui-bundle.js").text
    spec = shared.get("/openapi.json").json()
    body = spec["paths"]["/v1/models/{name}/predict"]["post"]["requestBody"]["content"]
    example = body["application/json"]["examples"]["delays"]["value"]
    assert list(example["records"][0]) == FEATURES
    assert shared.post("/v1/models/delays/predict", json=example).status_code == 200
    mlflow = spec["paths"]["/invocations"]["post"]["requestBody"]["content"]
    assert mlflow["application/json"]["example"] == example


def test_413_and_415_are_counted_and_repeated_request_ids_are_counted_not_refused(
    server: httpx.Client, flights: Flights
) -> None:
    row = records(flights.test.head(1))
    assert server.post("/v1/models/delays/predict", content=b"{}", headers={}).status_code == 415
    big = b'{"records": [{"x": "' + b"a" * 30_000 + b'"}]}'
    assert server.post("/invocations", content=big, headers=JSON).status_code == 413
    for _ in range(2):  # a retry with the same id is answered both times
        again = server.post(
            "/v1/models/delays/predict", json={"records": row}, headers={"x-request-id": "r-7"}
        )
        assert again.status_code == 200 and again.json()["request_ids"] == ["r-7"]
    twice = server.post(
        "/v1/models/delays/predict", json={"records": row * 2, "request_ids": ["a", "a"]}
    )
    assert twice.status_code == 422
    assert "request_ids holds 'a' more than once" in twice.json()["message"]
    metrics = server.get("/metrics").text
    assert 'mloop_request_errors_total{model="delays",status="415"} 1.0' in metrics
    assert 'mloop_request_errors_total{model="delays",status="413"} 1.0' in metrics
    assert 'mloop_request_errors_total{model="delays",status="422"} 1.0' in metrics
    assert 'mloop_duplicate_request_ids_total{model="delays"} 1.0' in metrics


def test_the_feature_server_docs_page_is_offline_too(mloop_home: Path) -> None:
    from fastapi.testclient import TestClient

    from mloop.server.features import create_app as feature_app

    with TestClient(feature_app()) as client:
        page = client.get("/docs").text
        assert '<script src="/docs/assets/swagger-ui-bundle.js">' in page
        assert "cdn." not in page
        assert client.get("/docs/assets/swagger-ui.css").status_code == 200
