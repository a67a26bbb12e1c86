"""Code fingerprints: a node's function plus every project function it calls, hashed.

Caches in other tools often hash only the node's own function, so editing a helper it
calls silently reuses stale outputs. Here the fingerprint walks the function's globals,
closure cells, default values and nested code objects, follows every function and class
defined in the project (not in the standard library or installed packages), and hashes
their source. Installed libraries are identified by name and version instead.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["code_fingerprint"]

_LIBRARY_ROOTS = tuple(
    {
        p
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
)


def _is_project(obj: Any) -> bool:
    """True for functions and classes defined in the user's code (not stdlib, packages, mloop)."""
    module_name = getattr(obj, "__module__", None) or ""
    top = module_name.split(".")[0]
    if top in sys.stdlib_module_names or top in ("builtins", "mloop"):
        return False
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if path is None:
        return module_name in ("__main__", "") or module is None
    return not any(path.startswith(root) for root in _LIBRARY_ROOTS) and "site-packages" not in path


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        if code is not None:  # defined in a REPL or exec(): fall back to the bytecode
            return repr((code.co_code, code.co_consts, code.co_names))
        return repr(obj)


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _references(func: Any) -> Iterator[Any]:
    """Objects a function can reach: globals it names, closure cells, defaults."""
    code = getattr(func, "__code__", None)
    if code is None:
        return
    scope = getattr(func, "__globals__", {})
    names = {name for c in _codes(code) for name in c.co_names}
    for name in names:
        if name in scope:
            value = scope[name]
            yield value
            if isinstance(value, types.ModuleType):  # helpers.clean(...) -> attribute names
                for attr in names:
                    found = getattr(value, attr, None)
                    if found is not None:
                        yield found
    for cell in getattr(func, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # empty cell
            continue
    yield from getattr(func, "__defaults__", None) or ()
    yield from (getattr(func, "__kwdefaults__", None) or {}).values()


def _library_id(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        return None
    top = module.split(".")[0]
    version = getattr(sys.modules.get(top), "__version__", "")
    return f"{module}.{getattr(obj, '__qualname__', '')}=={version}"


def _unwrap(func: Any) -> tuple[Any, str]:
    extra = ""
    while isinstance(func, functools.partial):
        extra += repr((func.args, sorted(func.keywords.items())))
        func = func.func
    callable_object = not inspect.isfunction(func) and not inspect.isclass(func) and callable(func)
    if callable_object and _is_project(type(func)):
        extra += repr(sorted(getattr(func, "__dict__", {}).items()))
        func = type(func)
    return func, extra


def code_fingerprint(func: Callable[..., Any]) -> str:
    """sha256 of the function's source and of the project code it reaches.

    Example:
        >>> code_fingerprint(train) != code_fingerprint(train_v2)
        True
    """
    root, extra = _unwrap(func)
    digest = hashlib.sha256(extra.encode())
    seen: set[int] = set()
    todo: list[Any] = [root]
    parts: list[str] = []
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if inspect.isfunction(obj) or inspect.ismethod(obj):
            target = obj.__func__ if inspect.ismethod(obj) else obj
            if obj is root or _is_project(target):
                parts.append(f"{target.__module__}.{target.__qualname__}:{_source(target)}")
                todo.extend(_references(target))
            else:
                parts.append(_library_id(target) or "")
        elif inspect.isclass(obj):
            if _is_project(obj):
                parts.append(f"{obj.__module__}.{obj.__qualname__}:{_source(obj)}")
                for member in vars(obj).values():
                    inner = getattr(member, "__func__", member)
                    if inspect.isfunction(inner):
                        todo.extend(_references(inner))
        elif isinstance(obj, int | float | str | bytes | bool | tuple | frozenset):
            parts.append(f"const:{obj!r}"[:10_000])  # module constants the code reads
        elif isinstance(obj, functools.partial):
            todo.append(obj.func)
            parts.append(repr((obj.args, sorted(obj.keywords.items()))))
    for part in sorted(parts):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()
