"""Every ``mloop`` command the README and docs/ mention exists, with the options shown.

Commands are taken from shell blocks (lines starting with ``mloop`` or ``$ mloop``) and
from inline code (`` `mloop ...` ``); ``<placeholders>`` and ``[optional parts]`` are
read as arguments. A renamed command or option then fails here, not in a reader's shell.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from mloop.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"`(mloop [^`]+)`")


def commands_of(page: Path) -> list[str]:
    text = page.read_text()
    found = []
    for block in _SHELL_BLOCK.findall(text):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("mloop "):
                found.append(line)
    found += _INLINE.findall(text)
    return found


def _tokens(command: str) -> list[str]:
    command = re.sub(r"<[^>]*>", "X", command.split(" #")[0])
    command = command.replace("[", " ").replace("]", " ").replace("|", " | ")
    tokens = shlex.split(command)
    for stop in ("&&", "|", ";"):
        if stop in tokens:
            tokens = tokens[: tokens.index(stop)]
    return tokens[1:]


def problem(command: str) -> str | None:
    """What is wrong with ``command`` (``None`` when its commands and options exist)."""
    tokens = _tokens(command)
    current: Any = typer.main.get_command(app)
    parent: Any = None
    name = "mloop"
    while hasattr(current, "list_commands") and tokens and not tokens[0].startswith("-"):
        parent = typer.Context(current, info_name=name, parent=parent)
        name = tokens.pop(0)
        found = current.get_command(parent, name)
        if found is None:
            known = ", ".join(current.list_commands(parent))
            return f"{command!r}: no command {name!r} (there are: {known})"
        current = found
    options = {"--help"} | {o for p in current.params for o in (*p.opts, *p.secondary_opts)}
    for token in tokens:
        option = token.split("=", 1)[0]
        if option.startswith("-") and option != "-" and option not in options:  # "-": stdout
            return f"{command!r}: {name} has no option {option!r} ({', '.join(sorted(options))})"
    return None


@pytest.mark.parametrize("page", [p for p in PAGES if commands_of(p)], ids=lambda p: p.name)
def test_every_command_of_the_page_exists(page: Path) -> None:
    problems = [found for c in commands_of(page) if (found := problem(c)) is not None]
    assert problems == []


def test_the_check_finds_a_command_or_option_that_does_not_exist() -> None:
    assert problem("mloop loop step policies:delays_policy") is None
    assert problem("mloop audit --object flight-delays") is None
    assert "no command 'run'" in (problem("mloop loop run") or "")
    assert "no option '--modle'" in (problem("mloop alerts list --modle x") or "")
