"""What ``mloop serve`` serves: a model URI, or graphs defined in the project's code.

>>> load_target("models:/delays@champion")        # one model
>>> load_target("app/serving.py:graph")          # a Graph (or a list of them) in a file
>>> load_target("myproject.serving:graphs")      # ... or in an importable module
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mloop.core.errors import InvalidInput, NotFound
from mloop.serving.graph import Graph


def load_target(target: str | Graph | Sequence[str | Graph], **model_options: Any) -> list[Graph]:
    """The graphs a target names (see the module examples).

    Raises:
        InvalidInput: the target is none of the accepted forms or holds no graph.
        NotFound: the file, module or attribute does not exist.
    """
    if isinstance(target, Graph):
        return [target]
    if isinstance(target, (list, tuple)):
        return [g for t in target for g in load_target(t, **model_options)]
    if not isinstance(target, str) or not target.strip():
        raise InvalidInput(
            f"serve target {target!r} is empty; give models:/<name>@<alias> or <file.py>:<graph>."
        )
    if target.startswith(("models:/", "runs:/")):
        return [Graph.from_model(target, **model_options)]
    module_ref, _, attribute = target.partition(":")
    module = _import(module_ref)
    if attribute:
        if not hasattr(module, attribute):
            graphs = [n for n, v in vars(module).items() if isinstance(v, Graph)]
            raise NotFound(
                f"{module_ref!r} has no attribute {attribute!r}"
                + (f"; its graphs: {', '.join(graphs)}." if graphs else "; it defines no Graph.")
            )
        value = getattr(module, attribute)
        if callable(value) and not isinstance(value, Graph):
            value = value()
        return _graphs(value, target)
    found = [v for v in vars(module).values() if isinstance(v, Graph)]
    if not found:
        raise InvalidInput(
            f"{module_ref!r} defines no Graph; define one, or name it with {module_ref}:<name>."
        )
    return found


def check_target(target: str | Graph | Sequence[str | Graph]) -> list[Graph]:
    """The graphs a target names, each model URI resolved in the registry (not loaded):
    what ``mloop serve`` checks before it binds its port.

    Raises:
        NotFound: a graph, registered model, alias or version does not exist (the message
            names the nearest ones).
    """
    from mloop.registry import resolve_uri

    graphs = load_target(target)
    for graph in graphs:
        for runtime in graph.runtimes():
            resolve_uri(runtime.uri)
    return graphs


def _graphs(value: Any, target: str) -> list[Graph]:
    if isinstance(value, Graph):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Graph) for v in value):
        return list(value)
    raise InvalidInput(f"{target!r} is a {type(value).__name__}, not a Graph or a list of Graphs.")


def _import(reference: str) -> Any:
    if reference.endswith(".py") or "/" in reference:
        path = Path(reference)
        if not path.is_file():
            raise NotFound(f"graph file {reference!r} does not exist; check the path.")
        name = f"mloop_graph_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise InvalidInput(f"{reference!r} cannot be imported as Python.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.resolve().parent))
        return module
    try:
        return importlib.import_module(reference)
    except ModuleNotFoundError as exc:
        raise NotFound(
            f"module {reference!r} cannot be imported ({exc}); give a file path such as "
            "app/serving.py:graph or an importable module."
        ) from None
