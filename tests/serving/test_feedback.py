"""Feedback: labels checked against the model's label domain at the door, request ids matched
against the prediction log (never silently), and labels an operator can list, delete and
correct (Python API and ``mloop feedback``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app
from mloop.core.errors import InvalidInput, NotFound
from mloop.serving import Graph, LabelDomain
from mloop.store.predictions import (
    correct_feedback,
    delete_feedback,
    feedback_status,
    list_feedback,
    read_feedback,
)
from tests.serving.conftest import Flights, records

runner = CliRunner()


def _register(model: object, name: str, example: pd.DataFrame) -> str:
    with mloop.start_run():
        mloop.log_model(model, "model", registered_model_name=name, input_example=example)
    return f"models:/{name}/1"


@pytest.fixture
def text_classifier(flights: Flights, mloop_home: Path) -> str:
    """A classifier whose classes are strings: ``late`` and ``on time``."""
    from sklearn.linear_model import LogisticRegression

    X = flights.train[["distance", "hour"]]
    y = flights.target.map({1: "late", 0: "on time"})
    return _register(LogisticRegression(max_iter=200).fit(X, y), "delays_text", X.head(3))


@pytest.fixture
def regressor(flights: Flights, mloop_home: Path) -> str:
    from sklearn.linear_model import LinearRegression

    X = flights.train[["distance", "hour"]]
    return _register(LinearRegression().fit(X, X["distance"] / 8.0), "minutes", X.head(3))


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (7, "label 7 (row 0) is not a valid label of model 'delays'; its classes: 0, 1."),
        ("banana", "label 'banana' (row 0) is not a valid label of model 'delays'; its classes"),
        ("1", "label '1' (row 0) is not a valid label"),
        (0.5, "label 0.5 (row 0)"),
        (None, "label None (row 0)"),
        ([1], "label [1] (row 0)"),
    ],
)
def test_a_label_outside_a_classifiers_classes_is_a_422_and_nothing_is_stored(
    champion: str, label: object, message: str
) -> None:
    with Graph.from_model(champion).test_client(log=False) as client:
        answer = client.post("/v1/feedback", json={"request_ids": ["a", "b"], "labels": [1, label]})
        assert answer.status_code == 422
        assert message.replace("row 0", "row 1") in answer.json()["message"]
        assert read_feedback("delays").empty  # the valid label of the same request is not kept
        assert "mloop_feedback_rejected_total 1.0" in client.get("/metrics").json()
        assert (
            client.post("/v1/feedback", json={"request_id": "a", "label": 1.0}).status_code == 200
        )
        assert (
            client.post("/v1/feedback", json={"request_id": "b", "label": True}).status_code == 200
        )
    assert read_feedback("delays").set_index("request_id")["label"].to_dict() == {"a": 1, "b": 1}


def test_string_classes_and_a_regressors_numbers_are_the_label_domains(
    text_classifier: str, regressor: str
) -> None:
    with Graph.from_model(text_classifier).test_client(log=False) as client:
        bad = client.post("/v1/feedback", json={"request_id": "r", "label": 1})
        assert bad.status_code == 422
        assert "its classes: 'late', 'on time'" in bad.json()["message"]
        assert (
            client.post("/v1/feedback", json={"request_id": "r", "label": "late"}).status_code
            == 200
        )
    with Graph.from_model(regressor).test_client(log=False) as client:
        bad = client.post("/v1/feedback", json={"request_id": "r", "label": "banana"})
        assert bad.status_code == 422
        assert "it is a regressor: send the observed number" in bad.json()["message"]
        assert (
            client.post("/v1/feedback", json={"request_id": "r", "label": True}).status_code == 422
        )
        assert (
            client.post("/v1/feedback", json={"request_id": "r", "label": 93.5}).status_code == 200
        )
    assert read_feedback("minutes")["label"].tolist() == [93.5]
    assert read_feedback("delays_text")["label"].tolist() == ["late"]


def test_label_domain_reads_command_line_labels_as_the_model_does(text_classifier: str) -> None:
    from mloop.serving import ModelRuntime

    runtime = ModelRuntime(text_classifier)
    runtime.load()
    domain = LabelDomain.of(runtime)
    assert domain.kind == "classes" and domain.classes == ("late", "on time")
    assert domain.parse("late") == "late"
    with pytest.raises(InvalidInput, match="label 'soon' \\(row 0\\)"):
        domain.check([domain.parse("soon")])


def test_feedback_for_ids_never_served_is_counted_as_unmatched_in_the_store_and_metrics(
    champion: str, flights: Flights
) -> None:
    graph = Graph.from_model(champion)
    with graph.test_client(feedback_grace_s=0.0, flush_seconds=60.0) as client:
        served = client.predict({"records": records(flights.test.head(2))})["request_ids"]
        body = {"request_ids": [*served, "does-not-exist"], "labels": [1, 0, 1]}
        assert client.post("/v1/feedback", json=body).json()["recorded"] == 3
        # the log is not flushed yet: with no grace, all three are unmatched for now
        assert feedback_status("delays", grace_seconds=0).unmatched == 3
        assert feedback_status("delays").pending == 3  # what the default grace says
        assert client.service.writer is not None
        client.service.writer.flush()
        status = client.get("/v1/feedback/status").json()
        assert status == {
            "delays": {
                "model_name": "delays",
                "labels": 3,
                "matched": 2,
                "pending": 0,
                "unmatched": 1,
            }
        }
        metrics = client.get("/metrics").json()
        assert 'mloop_feedback_labels{model="delays",state="unmatched"} 1.0' in metrics
        assert 'mloop_feedback_labels{model="delays",state="matched"} 2.0' in metrics
        assert "mloop_feedback_labels_recorded_total 3.0" in metrics
    unmatched = list_feedback("delays", state="unmatched", grace_seconds=0)
    assert [(r["request_id"], r["label"]) for r in unmatched] == [("does-not-exist", 1)]
    assert {r["request_id"] for r in list_feedback("delays", state="matched")} == set(served)


def test_operators_list_delete_and_correct_labels_in_python(champion: str) -> None:
    from mloop.store.predictions import record_feedback

    record_feedback("delays", ["r1", "r2", "r3"], [1, 0, "banana"])
    assert [r["request_id"] for r in list_feedback("delays", limit=2)] == ["r1", "r2"]
    correct_feedback("delays", "r2", 1)
    assert read_feedback("delays").set_index("request_id")["label"].to_dict()["r2"] == "1"
    with pytest.raises(NotFound, match="no label of model 'delays' is stored for request 'r4'"):
        correct_feedback("delays", "r4", 1)
    assert delete_feedback("delays", ["r3", "never"]) == 1
    assert read_feedback("delays").set_index("request_id")["label"].to_dict() == {"r1": 1, "r2": 1}
    with pytest.raises(InvalidInput, match="feedback state 'unmatch' is unknown"):
        list_feedback("delays", state="unmatch")


def test_mloop_feedback_commands_list_status_correct_and_delete(champion: str) -> None:
    from mloop.store.predictions import record_feedback

    record_feedback("delays", ["r1", "does-not-exist"], [1, 0])

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["feedback", *args])
        assert result.exit_code == code, result.output
        return result.output

    listed = json.loads(
        cli("list", "delays", "--state", "unmatched", "--grace-seconds", "0", "--json")
    )
    assert sorted(r["request_id"] for r in listed) == ["does-not-exist", "r1"]
    status = json.loads(cli("status", "delays", "--json"))
    assert status == {
        "model_name": "delays",
        "labels": 2,
        "matched": 0,
        "pending": 2,
        "unmatched": 0,
    }
    assert "label of delays request r1 is now 0" in cli("correct", "delays", "r1", "0")
    wrong = runner.invoke(app, ["feedback", "correct", "delays", "r1", "7"])
    assert wrong.exit_code != 0 and "its classes: 0, 1" in str(wrong.exception)
    out = cli("delete", "delays", "--unmatched", "--grace-seconds", "0")
    assert "deleted 2 label(s) of delays" in out
    assert read_feedback("delays").empty
