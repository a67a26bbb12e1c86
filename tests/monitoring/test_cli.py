"""``mloop monitor``, ``mloop alerts`` and ``mloop loop`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import mloop
from mloop import loop
from mloop.cli.main import app
from mloop.monitoring import AlertRule, Monitor, set_reference
from mloop.monitoring.alerts import evaluate_rules
from mloop.store.predictions import record_feedback
from tests.monitoring.synthetic import log_predictions, register, rows

runner = CliRunner()


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_monitor_drift_of_two_files_prints_a_table_json_and_html(tmp_path: Path) -> None:
    rows(2_000, 0).to_parquet(tmp_path / "ref.parquet")
    rows(2_000, 1, shift=1.0).to_csv(tmp_path / "cur.csv", index=False)
    out = _cli(
        "monitor",
        "drift",
        str(tmp_path / "ref.parquet"),
        str(tmp_path / "cur.csv"),
        "--html",
        str(tmp_path / "d.html"),
    )
    assert "columns drifted" in out and "dataset drift: yes" in out
    assert "<svg" in (tmp_path / "d.html").read_text()
    report = json.loads(
        _cli(
            "monitor",
            "drift",
            str(tmp_path / "ref.parquet"),
            str(tmp_path / "cur.csv"),
            "--columns",
            "x,city",
            "--json",
        )
    )
    assert list(report["features"]) == ["x", "city"]
    assert report["features"]["x"]["drifted"] is True


def test_windows_status_report_alerts_and_loop_decisions(tmp_path: Path) -> None:
    register(rows(2_000, 0))
    mloop.registry.set_alias("m", "champion", 1)
    set_reference("m", 1, rows(800, 1), target="y")
    january = rows(1_000, 2, shift=1.0, cut=1.3)
    record_feedback("m", log_predictions(january, "2026-01-01"), january["y"].tolist())
    _cli("monitor", "run", "m", "--start", "2026-01-01", "--end", "2026-01-02", "--every", "1D")
    windows = json.loads(_cli("monitor", "windows", "m", "--json"))
    assert [w["rows"] for w in windows] == [1_000] and windows[0]["drifted"] == "x"
    assert "drift" in json.loads(_cli("monitor", "window", windows[0]["id"], "--json"))
    evaluate_rules("m", [AlertRule("drift", "drift.share", 0.3)], Monitor("m").windows())
    alerts = json.loads(_cli("alerts", "list", "--json"))
    assert [(a["rule"], a["status"]) for a in alerts] == [("drift", "firing")]
    assert json.loads(_cli("alerts", "history", "--json"))[0]["event"] == "fired"
    _cli("monitor", "report", "m", "--out", str(tmp_path / "r.html"))
    assert "Monitoring: m" in (tmp_path / "r.html").read_text()

    def train(context: loop.TrainingContext) -> object:
        return register(rows(2_000, 3, shift=1.0, cut=1.3))

    policy = loop.RetrainingPolicy(
        "p",
        "m",
        train=train,
        triggers=[loop.DriftTrigger(k=1, n=1)],
        approval="manual",
        metric="accuracy",
    )
    decision = policy.step()
    assert decision is not None and decision.status == "awaiting_approval"
    listed = json.loads(_cli("loop", "status", "--status", "awaiting_approval", "--json"))
    assert [d["id"] for d in listed] == [decision.id]
    assert "m version 2 is now champion" in _cli("loop", "approve", decision.id, "--reason", "ok")
    status = json.loads(_cli("monitor", "status", "m", "--json"))
    assert status["decisions"][-1]["status"] == "promoted"
    assert status["firing"][0]["rule"] == "drift"


def test_monitor_status_counts_labels_of_requests_never_served(tmp_path: Path) -> None:
    register(rows(500, 1))
    served = log_predictions(rows(20, 2), "2026-01-01")
    record_feedback("m", [served[0], "never-served"], [1, 0])
    status = json.loads(_cli("monitor", "status", "m", "--json"))
    assert status["feedback"] == {
        "model_name": "m",
        "labels": 2,
        "matched": 1,
        "pending": 1,  # within the grace period a label may still meet its prediction
        "unmatched": 0,
    }
    assert "2 (1 matched to a logged prediction, 1 pending, 0 unmatched)" in _cli(
        "monitor", "status", "m"
    )


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mloop", "loop", "approve", "nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "retraining decision 'nope' does not exist" in result.stderr
    assert "Traceback" not in result.stderr
