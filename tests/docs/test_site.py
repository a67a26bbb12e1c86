"""The documentation site's own code: docstrings read as Markdown, the reference's anchors.

The site itself is built by ``make docs`` (strict: a broken reference fails the build).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "_site" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_doctest_session_in_the_text_becomes_a_code_block() -> None:
    markdown_of = _load("griffe_docstrings").markdown_of
    text = 'What was recorded.\n>>> meta("m")["versions"]["numpy"]\n\'2.4\'\n\nMore text.'
    assert markdown_of(text) == (
        "What was recorded.\n\n```pycon\n"
        '>>> meta("m")["versions"]["numpy"]\n\'2.4\'\n```\n\nMore text.'
    )


def test_a_session_in_an_examples_section_is_left_to_griffe() -> None:
    markdown_of = _load("griffe_docstrings").markdown_of
    text = "Summary.\n\nExamples:\n    >>> f(1)\n    2\n\nArgs:\n    x: a number."
    assert markdown_of(text) == text


def test_restructuredtext_roles_become_inline_code() -> None:
    markdown_of = _load("griffe_docstrings").markdown_of
    assert markdown_of("See :func:`mloop.monitoring.drift` and :class:`~Suite`.") == (
        "See `mloop.monitoring.drift` and `Suite`."
    )


def test_a_function_named_like_its_module_is_referenced_inside_that_module() -> None:
    identifier = _load("hooks").identifier
    assert identifier("mloop.evaluation", "evaluate") == "mloop.evaluation.evaluate.evaluate"
    assert identifier("mloop.evaluation", "Gate") == "mloop.evaluation.Gate"
    assert identifier("mloop.lineage", "upstream") == "mloop.lineage.upstream"


def test_the_site_documents_every_package_of_the_root() -> None:
    import mloop

    packages = set(_load("hooks").PACKAGES)
    undocumented = {"core"}  # internals
    assert set(mloop._SUBMODULES) - undocumented == packages


def test_the_navigation_lists_every_reference_page_and_every_guide() -> None:
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages: list[str] = []

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, dict):
                for value in item.values():
                    if isinstance(value, list):
                        walk(value)
                    else:
                        pages.append(str(value))
            else:
                pages.append(str(item))

    walk(config["nav"])
    packages = _load("hooks").PACKAGES
    assert [p for p in pages if p.startswith("reference/")] == [
        "reference/index.md",
        *(f"reference/{name}.md" for name in packages),
    ]
    guides = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert guides <= set(pages), guides - set(pages)


def test_the_offline_check_finds_what_a_page_would_load_from_the_network() -> None:
    remote_resources = _load("hooks").remote_resources
    page = (
        '<script src="https://unpkg.com/iframe-worker/shim"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">'
        '<img src="assets/logo.png"><a href="https://github.com/x">a link is fine</a>'
        "<style>@font-face{src:url(https://fonts.gstatic.com/r.woff2)}</style>"
    )
    found = remote_resources(page)
    assert len(found) == 3
    assert "unpkg.com" in found[0] and "fonts.googleapis.com" in found[1]
    assert "fonts.gstatic.com" in found[2]
    assert remote_resources('<script src="../assets/bundle.js"></script>') == []
