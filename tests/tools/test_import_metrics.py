"""tools/import_metrics.py counts what it claims: deferred mloop imports and package circles."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import grimp

TOOL = Path(__file__).resolve().parents[2] / "tools" / "import_metrics.py"


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("import_metrics", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_metrics"] = module
    spec.loader.exec_module(module)
    return module


def test_function_level_imports_of_mloop_are_counted_with_their_reasons(tmp_path: Path) -> None:
    tool = _tool()
    package = tmp_path / "mloop"
    package.mkdir()
    (package / "a.py").write_text(
        "import json\n"
        "from mloop.core import errors\n\n"
        "def f():\n"
        "    import numpy\n"
        "    from mloop.core import ids  # a documented cycle\n"
        "    from mloop.core import clock\n"
        "    def g():\n"
        "        import mloop.store\n"
    )
    found = tool.deferred_imports(package)
    assert [(d.line, d.target, d.reason) for d in found] == [
        (6, "mloop.core", "a documented cycle"),
        (7, "mloop.core", ""),
        (9, "mloop.store", ""),
    ]


def test_circles_inside_a_package_are_found_and_across_packages_ignored() -> None:
    tool = _tool()
    graph = grimp.ImportGraph()
    for module in ("mloop", "mloop.x", "mloop.x.a", "mloop.x.b", "mloop.x.c", "mloop.y"):
        graph.add_module(module)
    graph.add_import(importer="mloop.x.a", imported="mloop.x.b")
    graph.add_import(importer="mloop.x.b", imported="mloop.x.a")
    graph.add_import(importer="mloop.x.c", imported="mloop.y")
    graph.add_import(importer="mloop.y", imported="mloop.x.c")
    assert tool.package_cycles(graph) == [["mloop.x.a", "mloop.x.b"]]
