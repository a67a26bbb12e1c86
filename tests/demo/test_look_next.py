"""The "look next" commands the demo prints work as printed: no activated virtual
environment, no ``mloop`` on PATH, every command and option exists."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

import mloop.store
from mloop.cli.demo import look_next, mloop_command
from mloop.cli.main import app

SCRIPT = Path(sys.executable).parent / "mloop"
needs_script = pytest.mark.skipif(not SCRIPT.exists(), reason="mloop is not installed here")


def _leaf(tokens: list[str]) -> Any:
    """Parse ``tokens`` (after ``mloop``) down to the command they name (its context);
    raise if any command or option does not exist."""
    command: Any = typer.main.get_command(app)
    parent: typer.Context | None = None
    name = "mloop"
    # a group (Typer bundles its own Click), unless its own options follow (`mloop audit`)
    while hasattr(command, "list_commands") and tokens and not tokens[0].startswith("-"):
        parent = typer.Context(command, info_name=name, parent=parent)
        name = tokens.pop(0)
        found = command.get_command(parent, name)
        assert found is not None, f"mloop has no command {name!r}"
        command = found
    return command.make_context(name, tokens, parent=parent)


@needs_script
def test_without_mloop_on_path_the_commands_name_the_script_of_the_running_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    folder = tmp_path / "mloop-demo"
    lines = look_next(folder, folder / "reports" / "demo-report.html", "abc", cwd=tmp_path)

    assert lines[0] == "cd mloop-demo"
    expected = mloop_command(folder)
    assert expected != "mloop"
    assert Path(folder, shlex.split(expected)[0]).resolve() == SCRIPT.resolve()
    commands = [line for line in lines if line.startswith(expected + " ")]
    # _leaf raises on an unknown command or option
    parsed = [_leaf(shlex.split(line)[1:]).command_path for line in commands]
    assert parsed == [
        f"mloop {name}"
        for name in (
            "runs list",
            "runs show",
            "models versions",
            "models show",
            "monitor windows",
            "alerts list",
            "loop status",
            "audit",
            "serve",
        )
    ]


@needs_script
def test_with_this_mloop_on_path_the_commands_say_mloop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{SCRIPT.parent}:/usr/bin:/bin")
    assert mloop_command(tmp_path) == "mloop"
    lines = look_next(tmp_path, tmp_path / "r.html", "abc", cwd=tmp_path)
    assert "mloop models versions flight-delays" in lines


def test_without_an_installed_script_the_commands_use_python_dash_m(tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python3"
    assert mloop_command(tmp_path, executable=str(python)) == f"{python} -m mloop"


@needs_script
@pytest.mark.timeout(120)
def test_the_printed_commands_run_in_a_shell_without_the_virtual_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mloop-demo"
    monkeypatch.setenv("MLOOP_HOME", str(folder / ".mloop"))
    mloop.store.reset()
    with mloop.start_run(run_name="printed-command-check") as run:
        mloop.log_metric("auc", 0.75)
    mloop.flush()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    lines = look_next(folder, folder / "reports" / "r.html", run.info.run_id, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOOP_")}
    env.pop("VIRTUAL_ENV", None)
    env["COLUMNS"] = "200"  # one line per run, so the name is not folded
    for wanted, marker in (("runs list", "printed-command-check"), ("runs show", "0.75")):
        command = next(line for line in lines if f" {wanted}" in line)
        done = subprocess.run(
            f"{lines[0]} && {command}",
            shell=True,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=100,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert marker in done.stdout, done.stdout
