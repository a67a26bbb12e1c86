"""``mloop prompts`` and ``mloop traces``: register, alias, show, list and search from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mloop.genai as genai
from mloop.cli import output
from mloop.cli.main import app

runner = CliRunner()


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_register_alias_show_and_list(tmp_path: Path) -> None:
    text = tmp_path / "qa.txt"
    text.write_text("Answer briefly: {{ question }}")
    chat = tmp_path / "qa.json"
    chat.write_text(json.dumps([{"role": "user", "content": "{{ question }}?"}]))
    assert "prompts:/qa/1" in _cli(
        "prompts", "register", "qa", str(text), "--param", "temperature=0.2"
    )
    assert "prompts:/qa/2" in _cli("prompts", "register", "qa", str(chat), "--tag", "team=support")
    assert "qa@production -> version 1" in _cli("prompts", "alias", "qa", "production", "1")
    shown = json.loads(_cli("prompts", "show", "prompts:/qa@production", "--json"))
    assert shown["version"] == 1 and shown["params"] == {"temperature": 0.2}
    assert shown["template"] == "Answer briefly: {{ question }}"
    assert json.loads(_cli("prompts", "show", "qa/2", "--json"))["tags"] == {"team": "support"}
    listed = json.loads(_cli("prompts", "list", "--json"))
    assert listed == [
        {
            "name": "qa",
            "latest_version": 2,
            "aliases": "production=1",
            "gated": "",
            "updated": listed[0]["updated"],
        }
    ]
    assert "deleted alias production" in _cli("prompts", "alias", "qa", "production", "--delete")


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["prompts", "show", "nothing@production"])
    assert result.exit_code != 0
    assert "prompt 'nothing' is not registered" in str(result.exception or result.output)


def test_traces_search_prints_matching_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    genai.record_llm_call(
        provider="openai", model="gpt-4o-mini", route="chat", user="ada", cost=0.01
    )
    genai.record_llm_call(provider="local", model="smollm2", route="local", user="bob")
    found = json.loads(_cli("traces", "search", "--route", "chat", "--json"))
    assert [(s["model"], s["user"], s["cost"]) for s in found] == [("gpt-4o-mini", "ada", 0.01)]
    shown = json.loads(_cli("traces", "show", found[0]["trace_id"], "--json"))
    assert [s["name"] for s in shown] == ["chat gpt-4o-mini"]
    # the console is made once per process, before COLUMNS could say anything: widen it
    monkeypatch.setattr(output.console, "width", 250)
    wide = runner.invoke(app, ["traces", "search", "--user", "bob"])
    assert "chat smollm2" in wide.output and "ada" not in wide.output
