"""The command line: listings (tables and --json), errors without tracebacks, --debug."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app

runner = CliRunner()


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def trained() -> str:
    mloop.set_experiment("cli")
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    with mloop.start_run(run_name="cli-run") as run:
        mloop.log_param("C", 1.0)
        mloop.log_metric("auc", 0.75)
        mloop.log_model(
            LogisticRegression().fit(X, [0, 0, 1, 1]), "model", registered_model_name="cli-model"
        )
    mloop.registry.set_alias("cli-model", "champion", 1, reason="first")
    return run.info.run_id


def test_listings_print_tables_and_json(trained: str) -> None:
    assert "cli" in _cli("experiments", "list")
    runs = json.loads(_cli("runs", "list", "--json"))
    assert runs[0]["info"]["run_id"] == trained
    assert runs[0]["data"]["metrics"] == {"auc": 0.75}
    filtered = json.loads(_cli("runs", "list", "--json", "--filter", "metrics.auc > 0.9"))
    assert filtered == []
    shown = json.loads(_cli("runs", "show", trained, "--json"))
    assert shown["data"]["params"] == {"C": "1.0"}
    assert "model/model.skops" in shown["artifacts"]
    models = json.loads(_cli("models", "list", "--json"))
    assert models == [
        {
            "name": "cli-model",
            "latest_version": 1,
            "aliases": "champion=1",
            "updated": models[0]["updated"],
        }
    ]
    versions = json.loads(_cli("models", "versions", "cli-model", "--json"))
    assert versions[0]["run_id"] == trained
    assert "champion" in _cli("models", "show", "cli-model@champion")
    entries = json.loads(_cli("audit", "--json"))
    assert entries[0]["action"] == "alias.set" and entries[0]["reason"] == "first"


def test_alias_commands_move_aliases_with_a_reason(trained: str) -> None:
    _cli("models", "alias", "set", "cli-model", "challenger", "1", "--reason", "try it")
    assert mloop.registry.get_version("cli-model", "challenger").version == 1
    _cli("models", "alias", "delete", "cli-model", "challenger")
    assert "challenger" not in mloop.registry.get_model("cli-model").aliases


def test_runs_compare_shows_differences(trained: str) -> None:
    with mloop.start_run() as other:
        mloop.log_param("C", 0.1)
        mloop.log_metric("auc", 0.75)
    rows = json.loads(_cli("runs", "compare", trained, other.info.run_id, "--json"))["rows"]
    assert {(r["key"], r["differs"]) for r in rows} == {("C", True), ("auc", False)}


def test_db_status_reports_up_to_date() -> None:
    mloop.set_experiment("x")
    status = json.loads(_cli("db", "status", "--json"))
    assert status["up_to_date"] is True
    assert set(status["current"]) <= set(status["heads"])


def test_errors_are_one_clear_line_and_debug_shows_the_traceback() -> None:
    command = [sys.executable, "-m", "mloop", "models", "show", "nowhere@champion"]
    plain = subprocess.run(command, capture_output=True, text=True)
    assert plain.returncode == 1
    assert "error: registered model 'nowhere' does not exist" in plain.stderr
    assert "Traceback" not in plain.stderr
    debug = subprocess.run(
        [sys.executable, "-m", "mloop", "--debug", *command[3:]], capture_output=True, text=True
    )
    assert "Traceback" in debug.stderr and "NotFound" in debug.stderr


def test_help_lists_the_command_groups() -> None:
    output = _cli("--help")
    for group in ("experiments", "runs", "models", "audit", "db", "demo"):
        assert group in output
