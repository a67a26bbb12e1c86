"""The pipeline commands: init, pipeline list/show, run (and its failure), schedule, scheduler."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mloop.cli.main import app

cli = CliRunner()

PROJECT = """
from mloop.pipelines import Pipeline, node


def make(n):
    return list(range(n))


def total(values, fail):
    if fail:
        raise ValueError("total refused the values")
    return sum(values)


def register_pipelines():
    return {"numbers": Pipeline([node(make, "params:n", "values"), node(total, ["values", "params:fail"], "sum")])}
"""


def _ok(*args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def numbers(mloop_home: Path) -> Path:
    (mloop_home / "mloop.toml").write_text(
        '[pipelines]\nmodule = "cli_numbers"\ndefault = "numbers"\n[params]\nn = 5\nfail = false\n'
    )
    (mloop_home / "cli_numbers.py").write_text(PROJECT)
    return mloop_home


def test_init_writes_a_project_whose_pipeline_lists_and_shows(mloop_home: Path) -> None:
    output = _ok("init", "delays")
    assert "created delays/mloop.toml" in output
    for name in (
        "pipelines.py",
        "features.py",
        "checks.py",
        "conf/base/parameters.yml",
        "conf/base/catalog.yml",
    ):
        assert (mloop_home / "delays" / name).is_file()
    again = cli.invoke(app, ["init", "delays"])
    assert again.exit_code == 1 and "does not overwrite" in str(again.exception)

    import os

    os.chdir(mloop_home / "delays")
    listing = json.loads(_ok("pipeline", "list", "--json"))
    assert listing == [
        {
            "name": "training",
            "nodes": 7,
            "inputs": "",
            "outputs": "registered_model",
            "default": "yes",
        }
    ]
    tree = _ok("pipeline", "show", "--mermaid", "dag.mmd", "--html", "dag.html")
    assert tree.startswith("training (7 nodes)")
    assert "load  [params:data] -> [flights]" in tree
    assert (mloop_home / "delays" / "dag.mmd").read_text().startswith("flowchart LR")
    assert "<svg" in (mloop_home / "delays" / "dag.html").read_text()


def test_run_prints_the_nodes_and_a_second_run_is_cached(numbers: Path) -> None:
    first = json.loads(_ok("run", "--json", "-p", "n=4"))
    assert first["status"] == "FINISHED" and [n["status"] for n in first["nodes"]] == ["ran", "ran"]
    second = _ok("run", "numbers", "-p", "n=4")
    assert "2 cached" in second and "FINISHED" in second


def _mloop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mloop", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _progress(stderr: str) -> list[tuple[str, str]]:
    """``(node, status)`` of each progress line (``HH:MM:SS  node  status ...``)."""
    lines = [line.split() for line in stderr.splitlines()]
    return [(p[1], p[2]) for p in lines if len(p) >= 3 and re.fullmatch(r"\d\d:\d\d:\d\d", p[0])]


def test_run_shows_each_node_as_it_starts_and_ends_with_its_time(numbers: Path) -> None:
    first = _mloop("run", "-p", "n=4")
    assert first.returncode == 0, first.stderr
    assert _progress(first.stderr) == [
        ("make", "started"),
        ("make", "ran"),
        ("total", "started"),
        ("total", "ran"),
    ]
    assert re.search(r"total\s+ran\s+\d+\.\d\d s", first.stderr)  # with its time
    assert "started" not in first.stdout  # stdout keeps the result table only
    second = _mloop("run", "-p", "n=4")
    assert _progress(second.stderr) == [("make", "cached"), ("total", "cached")]
    failed = _mloop("run", "-p", "fail=true")
    assert _progress(failed.stderr)[-1] == ("total", "failed")
    assert re.search(r"total\s+failed\s+\d+\.\d\d s\s+ValueError: total refused", failed.stderr)
    assert _progress(_mloop("run", "-p", "n=3", "--quiet").stderr) == []
    as_json = _mloop("run", "-p", "n=2", "--json")
    assert json.loads(as_json.stdout)["status"] == "FINISHED" and _progress(as_json.stderr) == []


def test_a_failing_run_exits_1_with_the_node_error_and_resume_command(numbers: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mloop", "run", "-p", "fail=true"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    stderr = " ".join(result.stderr.split())  # rich wraps long lines
    assert "failed at node 'total': ValueError: total refused the values" in stderr
    assert "Resume from it with: mloop run numbers --from-nodes total" in stderr
    assert 'cli_numbers.py", line' in stderr and "execute.py" not in stderr  # the user's frames
    assert "failed" in result.stdout  # the table of nodes
    resumed = json.loads(_ok("run", "--from-nodes", "total", "--json"))
    assert [n["node"] for n in resumed["nodes"]] == ["total"]


def test_unknown_pipeline_and_node_names_are_one_clear_error(numbers: Path) -> None:
    result = cli.invoke(app, ["run", "numbrs"])
    assert result.exit_code == 1
    assert "pipeline 'numbrs' is not registered. Did you mean 'numbers'?" in str(result.exception)
    result = cli.invoke(app, ["run", "--from-nodes", "totl"])
    assert result.exit_code == 1 and "Did you mean 'total'?" in str(result.exception)


def test_schedules_are_managed_and_fired_by_the_scheduler(numbers: Path) -> None:
    assert "schedule nightly" in _ok(
        "schedule", "add", "numbers", "--cron", "0 3 * * *", "--name", "nightly"
    )
    listed = json.loads(_ok("schedule", "list", "--json"))
    assert [(s["name"], s["cron"]) for s in listed] == [("nightly", "0 3 * * *")]
    bad = cli.invoke(app, ["schedule", "add", "numbers", "--cron", "daily"])
    assert bad.exit_code == 1 and "is not valid" in str(bad.exception)

    from mloop.pipelines import request_run

    request_run("numbers", params={"n": 3}, reason="test")
    output = _ok("scheduler", "--once")
    assert "succeeded" in output and "numbers" in output
    assert "removed schedule nightly" in _ok("schedule", "remove", "nightly")


def test_a_module_of_the_same_name_from_a_sibling_project_is_not_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Project folders whose names share a prefix (/x/p1 and /x/p12) are told apart."""
    from mloop.pipelines.project import list_pipelines

    for name, pipeline in (("p12", "numbers"), ("p1", "letters")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "mloop.toml").write_text('[pipelines]\nmodule = "sibling_pipelines"\n')
        (folder / "sibling_pipelines.py").write_text(PROJECT.replace('"numbers"', f'"{pipeline}"'))
    monkeypatch.chdir(tmp_path / "p12")
    assert "numbers" in list_pipelines()
    monkeypatch.chdir(tmp_path / "p1")
    assert "letters" in list_pipelines()


def test_a_folder_named_pipelines_elsewhere_on_sys_path_is_not_the_project(
    mloop_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a pipelines module of its own a folder has no project: triggers are not checked."""
    from mloop.core.errors import ConfigError
    from mloop.pipelines.project import list_pipelines
    from mloop.pipelines.run_requests import request_run

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "pipelines").mkdir()  # a namespace package called "pipelines"
    monkeypatch.syspath_prepend(str(elsewhere))
    monkeypatch.delitem(sys.modules, "pipelines", raising=False)
    with pytest.raises(ConfigError, match="no pipelines module 'pipelines'"):
        list_pipelines()
    assert request_run("training", reason="no project to check against").pipeline == "training"
