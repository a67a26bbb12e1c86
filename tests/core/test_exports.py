"""The root package's public names: ``_EXPORTS`` is the one list, the rest follows from it."""

from __future__ import annotations

import ast
import importlib
import inspect

import mloop


def _type_checking_imports() -> dict[str, str]:
    """Name -> module of the imports under ``if TYPE_CHECKING:`` in mloop/__init__.py."""
    tree = ast.parse(inspect.getsource(mloop))
    found: dict[str, str] = {}
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1
    for statement in blocks[0].body:
        assert isinstance(statement, ast.ImportFrom) and statement.module is not None
        for alias in statement.names:
            found[alias.asname or alias.name] = statement.module
    return found


def test_the_names_for_type_checkers_are_exactly_the_lazy_exports() -> None:
    assert _type_checking_imports() == mloop._EXPORTS


def test_all_and_dir_follow_from_the_exports_and_submodules() -> None:
    expected = [*sorted(mloop._EXPORTS), *mloop._SUBMODULES, "__version__"]
    assert mloop.__all__ == expected
    assert dir(mloop) == sorted(expected)


def test_every_export_is_the_object_its_module_defines() -> None:
    for name, module in mloop._EXPORTS.items():
        assert getattr(mloop, name) is getattr(importlib.import_module(module), name), name
    for name in mloop._SUBMODULES:
        assert getattr(mloop, name) is importlib.import_module(f"mloop.{name}")
