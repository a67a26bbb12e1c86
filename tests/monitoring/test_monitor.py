"""Monitor: references, windows of the prediction log, late labels, quality, root cause, gauges."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop import data
from mloop.core.errors import InvalidInput, NotFound
from mloop.monitoring import AlertRule, Monitor, get_reference, list_alerts, set_reference
from mloop.store.predictions import read_predictions, record_feedback
from tests.monitoring.synthetic import FEATURES, register, rows
from tests.monitoring.synthetic import log_predictions as _log


def _registered() -> pd.DataFrame:
    """Model ``m`` version 1 (champion) with a reference made from validation rows."""
    register(rows(3_000, 0))
    mloop.registry.set_alias("m", "champion", 1)
    validation = rows(2_000, 1)
    set_reference("m", 1, validation, target="y")
    return validation


@pytest.fixture
def registered() -> pd.DataFrame:
    return _registered()


@pytest.fixture
def registered_on_each_db(db_url: str) -> pd.DataFrame:
    return _registered()


def test_a_reference_holds_inputs_outputs_labels_importance_and_baselines(
    registered: pd.DataFrame,
) -> None:
    ref = get_reference("m", "champion")
    assert ref.features == FEATURES  # from the model's signature
    assert ref.outputs == ["prediction", "proba"]
    assert (ref.task, ref.label, ref.classes) == ("classification", "label", [0, 1])
    assert set(ref.profile) == {*FEATURES, "prediction", "proba", "label"}
    assert ref.importance is not None and max(ref.importance, key=ref.importance.get) == "x"
    assert 0.7 < ref.metrics["accuracy"] < 1.0 and "roc_auc" in ref.metrics
    assert {s["column"] for s in ref.slices} >= {"x", "city"}


def test_a_version_without_reference_says_how_to_make_one() -> None:
    register(rows(200, 0))
    with pytest.raises(NotFound, match=r"set_reference\('m', 1, train_df"):
        get_reference("m", 1)


def test_windows_of_the_prediction_log_with_labels_arriving_later(
    registered_on_each_db: pd.DataFrame,
) -> None:
    rule = AlertRule("accuracy fell", "performance_drop.accuracy", 0.1)
    monitor = Monitor(
        "m", alerts=[rule], kpis={"positive_rate": lambda w: float(w["prediction"].mean())}
    )
    quiet, shifted = rows(1_500, 2), rows(1_500, 3, shift=1.5)
    ids = _log(quiet, "2026-01-01") + _log(shifted, "2026-01-02", prefix="s")
    windows = monitor.run("2026-01-01", "2026-01-03", every="1D")
    assert [w.num_rows for w in windows] == [1_500, 1_500]
    assert windows[0].drift.drifted == [] and windows[1].drift.drifted == ["x"]
    assert windows[1].output_drift is not None and "proba" in windows[1].output_drift.features
    assert windows[1].labelled_rows == 0 and windows[1].performance == {}
    assert windows[1].kpis["positive_rate"] > windows[0].kpis["positive_rate"]
    assert set(windows[0].latency) == {"p50", "p95", "p99"}
    assert windows[1].root_cause["features"][0]["column"] == "x"
    # the labels come later: shifted rows are relabelled so that the model is now wrong
    flipped = 1 - shifted["y"].to_numpy()
    record_feedback("m", ids, [*quiet["y"].tolist(), *flipped.tolist()])
    changed = monitor.refresh_labels()
    assert [w.labelled_rows for w in changed] == [1_500, 1_500]
    stored = monitor.windows()
    assert stored[0].performance["accuracy"] > 0.75
    assert stored[1].performance["accuracy"] < 0.3
    assert stored[1].value("performance_drop.accuracy") > 0.4
    worst = stored[1].root_cause["slices"][0]
    assert worst["drop"] > 0.3 and worst["column"] in FEATURES
    assert [a.rule for a in list_alerts("m", status="firing")] == ["accuracy fell"]
    # a window is a value: its profile comes through the loader its store gave it
    assert stored[1].profile()["x"].count == 1_500
    assert windows[0].profile()["x"].count == 1_500  # saved by the run, so it has one too
    detached = dataclasses.replace(stored[1])
    with pytest.raises(NotFound, match="has no stored profile"):
        detached.profile()


def test_windows_by_row_count_and_by_version(registered: pd.DataFrame) -> None:
    register(rows(3_000, 5))
    set_reference("m", 2, rows(1_000, 6), target="y")
    _log(rows(500, 7), "2026-02-01", version=1)
    _log(rows(700, 8), "2026-02-01", version=2, prefix="v")
    monitor = Monitor("m")
    daily = monitor.run("2026-02-01", "2026-02-02", every="1D")
    assert sorted((w.model_version, w.num_rows) for w in daily) == [("1", 500), ("2", 700)]
    chunks = monitor.run("2026-02-01", "2026-02-02", every=None, rows=300)
    assert [(w.model_version, w.num_rows) for w in chunks if w.model_version == "2"] == [
        ("2", 300),
        ("2", 300),
        ("2", 100),
    ]
    both = read_predictions("m")
    with pytest.raises(InvalidInput, match="observe one version at a time"):
        monitor.observe(both)


def test_bad_windows_are_findings_and_the_data_suite_runs_on_each(registered: pd.DataFrame) -> None:
    suite = data.Suite(
        "m-inputs", [data.checks.in_set("city", ["a", "b", "c"]), data.checks.not_null("noise")]
    )
    monitor = Monitor("m", suite=suite)
    frame = rows(400, 9, cities=("a", "b", "zz"))
    frame["prediction"] = mloop.load_model("models:/m/1").predict(frame[FEATURES])
    frame["noise"] = np.nan  # the feed broke after the model answered
    window = monitor.observe(frame.drop(columns=["y"]), start="2026-03-01", end="2026-03-02")
    kinds = {(f["column"], f["kind"]) for f in window.quality["findings"]}
    assert ("noise", "all_null") in kinds and ("city", "new_categories") in kinds
    assert window.drift.features["noise"].status == "empty"
    assert window.quality["success"] is False and len(window.quality["failed"]) == 2
    assert window.value("quality.failed_checks") == 2.0
    missing = monitor.observe(frame.drop(columns=["y", "x"]), start="2026-03-02", end="2026-03-03")
    assert missing.drift.features["x"].status == "missing"
    assert missing.drift.dataset.missing == ["x"]


def test_merged_windows_drift_over_a_period_and_the_prometheus_gauges(
    registered: pd.DataFrame,
) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from mloop.monitoring import prometheus_gauges

    _log(rows(800, 10, shift=1.0), "2026-04-01")
    _log(rows(800, 11, shift=1.0), "2026-04-02", prefix="t")
    monitor = Monitor("m")
    monitor.run("2026-04-01", "2026-04-03", every="1D")
    period = monitor.drift("2026-04-01", "2026-04-03")
    assert period.current_rows == 1_600
    assert period.features["x"].drifted is True and period.features["noise"].drifted is False
    registry = CollectorRegistry()
    prometheus_gauges(registry, models=["m"])
    text = generate_latest(registry).decode()
    assert 'mloop_feature_drifted{feature="x",model="m",version="1"} 1.0' in text
    assert 'mloop_window_rows{model="m",version="1"} 800.0' in text
    html = monitor.report()
    assert "Drift over time per feature" in html and "Reference versus latest window" in html


def test_monitor_arguments_are_checked(registered: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="registered model name"):
        Monitor("")
    with pytest.raises(InvalidInput, match="AlertRule objects"):
        Monitor("m", alerts=["drift.share > 0.3"])  # type: ignore[list-item]
    monitor = Monitor("m")
    with pytest.raises(InvalidInput, match="pass start= and end="):
        monitor.observe(rows(10, 1))
    with pytest.raises(InvalidInput, match="is not a duration"):
        monitor.run("2026-01-01", "2026-01-02", every="daily")
    with pytest.raises(InvalidInput, match="must be after start"):
        monitor.run("2026-01-02", "2026-01-01")
