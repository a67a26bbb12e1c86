"""``mloop data``: register, list, show, profile, suggest and check from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.core.errors import NotFound


@pytest.fixture
def files(mloop_home: Path, weather: pd.DataFrame) -> dict[str, Path]:
    paths = {"first": mloop_home / "first.parquet", "all": mloop_home / "all.parquet"}
    weather[weather["month"] <= 6].to_parquet(paths["first"])
    weather.to_parquet(paths["all"])
    return paths


def test_register_list_show_and_profile(files: dict[str, Path]) -> None:
    runner = CliRunner()
    registered = runner.invoke(
        app, ["data", "register", "weather", str(files["first"]), "-d", "Jan-Jun", "--json"]
    )
    assert registered.exit_code == 0, registered.output
    version = json.loads(registered.output)
    assert (version["key"], version["num_rows"]) == ("weather@1", 13014)
    assert "__index_level_0__" not in [c["name"] for c in version["schema"]]
    listed = runner.invoke(app, ["data", "list", "--json"])
    assert [(d["name"], d["version"]) for d in json.loads(listed.output)] == [("weather", 1)]
    shown = runner.invoke(app, ["data", "show", "weather@1"])
    assert shown.exit_code == 0 and "13,014 rows" in shown.output and "versions: 1" in shown.output
    profiled = runner.invoke(app, ["data", "profile", str(files["all"]), "--json"])
    assert json.loads(profiled.output)["num_rows"] == 26115
    table = runner.invoke(app, ["data", "profile", "weather"])
    assert table.exit_code == 0 and "origin" in table.output and "13,014 rows" in table.output


def test_suggest_then_check_writes_reports_and_fails_on_errors(
    files: dict[str, Path], mloop_home: Path
) -> None:
    runner = CliRunner()
    runner.invoke(app, ["data", "register", "weather", str(files["first"])])
    suite = mloop_home / "suite.yaml"
    suggested = runner.invoke(
        app, ["data", "suggest", "weather", "--name", "weather", "-o", str(suite), "--save"]
    )
    assert suggested.exit_code == 0, suggested.output
    assert "saved suite weather@1" in suggested.output and "check: between" in suite.read_text()
    passing = runner.invoke(app, ["data", "check", "weather@1", "--suite", "weather", "--json"])
    result = json.loads(passing.output)
    assert result["dataset"] == "weather@1" and result["suite_version"] == 1
    report = mloop_home / "report.html"
    failing = runner.invoke(
        app,
        [
            "data",
            "check",
            str(files["all"]),
            "-s",
            str(suite),
            "--html",
            str(report),
            "-q",
            "weather.quarantine",
        ],
    )
    assert failing.exit_code == 1
    assert "FAILED" in failing.output and "quarantined" in failing.output
    assert "between(wind_speed)" in report.read_text()


def test_unknown_dataset_is_one_clear_error(mloop_home: Path) -> None:
    result = CliRunner().invoke(app, ["data", "show", "nowhere"])
    assert result.exit_code != 0
    assert isinstance(result.exception, NotFound) and "does not exist" in str(result.exception)
