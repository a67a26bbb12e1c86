"""Unknown model names are an error naming the nearest registered models, never an empty answer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mloop.cli.main import app
from mloop.core.errors import NotFound
from mloop.monitoring import Monitor, alert_history, list_alerts, list_windows
from tests.monitoring.synthetic import register, rows

runner = CliRunner()


@pytest.fixture
def delays() -> None:
    register(rows(400, 0), name="delays")


@pytest.mark.parametrize(
    "call",
    [
        lambda: Monitor("delay").run("2026-01-01", "2026-01-02"),
        lambda: Monitor("delay").refresh_labels(),
        lambda: Monitor("delay").windows(),
        lambda: list_windows("delay"),
        lambda: list_alerts("delay"),
        lambda: alert_history("delay"),
    ],
    ids=["run", "refresh_labels", "windows", "list_windows", "list_alerts", "alert_history"],
)
def test_python_calls_on_an_unknown_model_raise_with_the_nearest_name(
    delays: None, call: Callable[[], object]
) -> None:
    with pytest.raises(NotFound, match=r"registered model 'delay' does not exist.*'delays'"):
        call()


def test_a_registered_model_without_windows_is_an_empty_answer(delays: None) -> None:
    assert Monitor("delays").windows() == [] and list_alerts("delays") == []


@pytest.mark.parametrize(
    "args",
    [
        ["monitor", "run", "delay", "--start", "2026-01-01", "--end", "2026-01-02"],
        ["monitor", "status", "delay"],
        ["monitor", "windows", "delay"],
        ["monitor", "refresh", "delay"],
        ["alerts", "list", "--model", "delay"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_cli_commands_on_an_unknown_model_fail_with_the_nearest_name(
    delays: None, args: list[str]
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code != 0 and isinstance(result.exception, NotFound)
    assert "registered model 'delay' does not exist. Did you mean 'delays'?" in str(
        result.exception
    )


def test_the_installed_command_prints_one_line_and_exits_1(delays: None, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mloop", "monitor", "status", "delay"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: registered model 'delay' does not exist. Did you mean 'delays'?" in result.stderr
