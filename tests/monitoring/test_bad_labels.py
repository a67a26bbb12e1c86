"""Stored labels outside the model's label domain never break monitoring: skipped and counted."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from sklearn import metrics as skm
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app
from mloop.evaluation import evaluate
from mloop.monitoring import Monitor, set_reference
from mloop.monitoring._labels import clean_labels
from mloop.store import get_store
from mloop.store.predictions import record_feedback
from mloop.store.schema.predictions import PredictionFeedback
from tests.monitoring.synthetic import log_predictions, register, rows


def _store_label_as_is(request_id: str, label: Any) -> None:
    """Write a feedback row straight into the store, as a door without validation once did."""
    number = None if isinstance(label, str) else float(label)
    text = label if isinstance(label, str) else None
    store = get_store()
    store.transaction(
        lambda conn: store.upsert(
            conn,
            PredictionFeedback.__table__,
            [
                {
                    "model_name": "m",
                    "request_id": request_id,
                    "label_number": number,
                    "label_text": text,
                    "ts": pd.Timestamp("2026-01-01T12:00", tz="UTC").value // 1_000_000,
                    "updated_at": 0,
                }
            ],
            keys=["model_name", "request_id"],
            update=["label_number", "label_text", "ts", "updated_at"],
        )
    )


@pytest.fixture
def served(db_url: str) -> pd.DataFrame:
    """A binary model with a reference, 300 served rows, true labels on all but two rows."""
    register(rows(1_500, 0))
    mloop.registry.set_alias("m", "champion", 1)
    set_reference("m", 1, rows(600, 1), target="y")
    day = rows(300, 2)
    ids = log_predictions(day, "2026-01-01")
    record_feedback("m", ids[2:], day["y"].tolist()[2:], ts="2026-01-01T12:00")
    _store_label_as_is(ids[0], "banana")
    _store_label_as_is(ids[1], 7)
    return day


def test_a_window_skips_labels_outside_the_classes_with_a_counted_reason(
    served: pd.DataFrame,
) -> None:
    [window] = Monitor("m").run("2026-01-01", "2026-01-02")
    assert window.labelled_rows == 298
    assert window.skipped_labels == {"label is not a class of the model (0, 1)": 2}
    model = mloop.load_model("models:/m/1")
    good = served.iloc[2:]
    predicted = model.predict(good[["x", "noise", "city"]])
    assert window.performance["precision"] == pytest.approx(
        skm.precision_score(good["y"], predicted)
    )
    evaluated = evaluate(model, good, target="y", log=False, plots=False).metrics
    assert window.performance == pytest.approx(evaluated)  # one definition of every metric
    page = Monitor("m").report()
    assert window.drift.dataset.verdict in page
    assert "Dataset drift: at least 50% of the compared features drifted" in page
    stored = Monitor("m").windows()[0]
    assert stored.skipped_labels == window.skipped_labels
    assert "labels skipped: 2 label is not a class" in repr(stored)
    assert Monitor("m").refresh_labels() == []  # nothing new, and no crash
    assert len(Monitor("m").rows(stored)) == 298


def test_the_cli_runs_and_shows_the_skipped_labels(served: pd.DataFrame) -> None:
    runner = CliRunner()
    ran = runner.invoke(
        app, ["monitor", "run", "m", "--start", "2026-01-01", "--end", "2026-01-02"]
    )
    assert ran.exit_code == 0, ran.output
    refreshed = runner.invoke(app, ["monitor", "refresh", "m"])
    assert refreshed.exit_code == 0, refreshed.output
    status = json.loads(runner.invoke(app, ["monitor", "status", "m", "--json"]).output)
    assert status["latest_window"]["skipped_labels"] == {
        "label is not a class of the model (0, 1)": 2
    }


@pytest.mark.parametrize(
    ("labels", "task", "classes", "kept", "skipped"),
    [
        (
            ["1", "0", "banana", "1.0", None],
            "classification",
            [0, 1],
            [1.0, 0.0, None, 1.0, None],
            1,
        ),
        ([True, 7, False, 0, 1], "classification", [False, True], [1.0, None, 0.0, 0.0, 1.0], 1),
        (
            ["yes", "no", "maybe", None, "yes"],
            "classification",
            ["no", "yes"],
            ["yes", "no", None, None, "yes"],
            1,
        ),
        (["1.5", "x", 2, float("inf"), None], "regression", None, [1.5, None, 2.0, None, None], 2),
    ],
)
def test_clean_labels_maps_spellings_to_the_class_and_counts_the_rest(
    labels: list[Any], task: str, classes: Any, kept: list[Any], skipped: int
) -> None:
    frame = pd.DataFrame({"prediction": [1, 0, 1, 0, 1], "label": pd.Series(labels, dtype=object)})
    cleaned, reasons = clean_labels(frame, task, classes)
    got = [None if pd.isna(v) else v for v in cleaned["label"]]
    assert got == kept
    assert sum(reasons.values()) == skipped
