"""Count function-level imports of mloop's own modules and import circles inside packages.

A function-level import of an mloop module usually hides a circle (docs/decisions/
0171-internal-layers.md); this script keeps the count visible. The import graph comes
from grimp (what import-linter uses), which records function-level and TYPE_CHECKING
imports too; the function-level ones are found with the ast module.

Usage: ``python tools/import_metrics.py [--list] [--cycles] [--max-deferred N] [--max-cycles N]``.
It exits 1 when a count exceeds its maximum (``make layers`` runs it as a ratchet). A
deferred import's reason is a comment on its line or the line above, or a module-level
``deferred for start-up time`` note (the cli modules).
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import grimp

ROOT = "mloop"
MODULE_NOTE = "deferred for start-up time"


@dataclass(frozen=True)
class Deferred:
    """One import of an mloop module inside a function body."""

    path: Path
    line: int
    target: str
    reason: str


def _source_root() -> Path:
    import mloop

    return Path(mloop.__file__).resolve().parent


def _reason(lines: list[str], line: int, module_note: bool) -> str:
    """The comment on the import's line, or a comment line right above it."""
    here = lines[line - 1]
    if "#" in here:
        return here.split("#", 1)[1].strip()
    above = lines[line - 2].strip() if line >= 2 else ""
    if above.startswith("#"):
        return above.lstrip("#").strip()
    return MODULE_NOTE if module_note else ""


def deferred_imports(source_root: Path) -> list[Deferred]:
    """Every ``import mloop...`` / ``from mloop... import`` inside a function body."""
    found: list[Deferred] = []
    for path in sorted(source_root.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        module_note = MODULE_NOTE in (ast.get_docstring(ast.parse(text)) or "") or any(
            line.startswith("#") and MODULE_NOTE in line for line in lines[:40]
        )
        for function in ast.walk(ast.parse(text)):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                targets: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [node.module]
                elif isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                for target in targets:
                    if target == ROOT or target.startswith(ROOT + "."):
                        found.append(
                            Deferred(
                                path, node.lineno, target, _reason(lines, node.lineno, module_note)
                            )
                        )
    # Nested functions are walked twice (once per enclosing function): keep one of each.
    return sorted(set(found), key=lambda d: (str(d.path), d.line, d.target))


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def package_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components (size > 1) of the import graph inside each package."""
    modules = sorted(graph.modules)
    edges = {
        m: sorted(
            n
            for n in graph.find_modules_directly_imported_by(m)
            if _package(n) == _package(m) and n != _package(m)
        )
        for m in modules
        if m != _package(m)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # iterative Tarjan
        nonlocal counter
        work = [(start, 0)]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, i = work[-1]
            children = edges.get(node, [])
            if i < len(children):
                work[-1] = (node, i + 1)
                child = children[i]
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    for module in edges:
        if module not in index:
            visit(module)
    return sorted(components)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list each deferred import")
    parser.add_argument("--cycles", action="store_true", help="list each circle's modules")
    parser.add_argument("--max-deferred", type=int, default=None)
    parser.add_argument("--max-cycles", type=int, default=None)
    args = parser.parse_args(argv)

    source_root = _source_root()
    deferred = deferred_imports(source_root)
    cycles = package_cycles(grimp.build_graph(ROOT, cache_dir=None))
    unexplained = [d for d in deferred if not d.reason]
    if args.list:
        for d in deferred:
            where = d.path.relative_to(source_root.parent)
            print(f"{where}:{d.line}: {d.target}  # {d.reason or 'NO REASON'}")
    if args.cycles:
        for component in cycles:
            print("circle:", " ".join(component))
    print(f"function-level imports of mloop modules: {len(deferred)}")
    print(f"  without a reason comment: {len(unexplained)}")
    print(f"import circles inside packages: {len(cycles)}")
    failed = False
    if args.max_deferred is not None and len(deferred) > args.max_deferred:
        print(
            f"more function-level mloop imports than the {args.max_deferred} allowed: move them to the module top"
        )
        failed = True
    if args.max_cycles is not None and len(cycles) > args.max_cycles:
        print(f"more import circles than the {args.max_cycles} allowed (run with --cycles)")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
