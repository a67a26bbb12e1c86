"""A griffe extension: mloop's docstrings, as written for ``help()``, read as Markdown.

The docstrings are Google style with two habits from reStructuredText that Markdown would
misread: ``>>>`` sessions in the text (Markdown would take ``["numpy"]`` for a link) and
roles such as ``:class:`Suite```. Sessions become ``pycon`` code blocks; roles become
inline code. The source stays as it is: ``help()`` and IDEs show it unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|ref):`~?([^`]+)`")


def _fence_sessions(text: str) -> str:
    """Wrap every run of ``>>>`` lines (with their output) in a ``pycon`` fence."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    in_examples = False  # griffe reads sessions in an Examples: section itself
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip()
        if stripped and line == stripped:
            in_examples = stripped.rstrip() == "Examples:"
        if in_examples or not (stripped.startswith(">>> ") or stripped == ">>>"):
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(stripped)]
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        while index < len(lines) and lines[index].strip():
            out.append(lines[index])
            index += 1
        out.append(f"{indent}```")  # the run ended at a blank line or at the end
    return "\n".join(out)


def markdown_of(docstring: str) -> str:
    """The docstring with its sessions fenced and its reST roles as inline code."""
    return _fence_sessions(_ROLE.sub(r"`\1`", docstring))


class MarkdownDocstrings(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)
