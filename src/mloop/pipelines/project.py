"""Projects: where ``mloop run`` finds the pipelines, and the skeleton ``mloop init`` writes.

mloop.toml names the module that registers the project's pipelines::

    [pipelines]
    module = "pipelines"      # a module under the project root (the default)
    default = "training"      # run by `mloop run` without a name

The module defines ``register_pipelines()`` returning ``{name: Pipeline}`` (a
``"__default__"`` key also names the default), or module-level ``Pipeline`` objects.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError, InvalidInput, NotFound, did_you_mean
from mloop.pipelines.pipeline import Pipeline

__all__ = ["find_pipeline", "list_pipelines"]

DEFAULT_MODULE = "pipelines"
DEFAULT = "__default__"


def _config() -> tuple[Path, dict[str, Any]]:
    settings = get_settings()
    return settings.root, settings.section("pipelines")


def list_pipelines() -> dict[str, Pipeline]:
    """Every pipeline the project registers, by name (``__default__`` included when set).

    Raises:
        ConfigError: the pipelines module cannot be imported or registers something else.
    """
    root, config = _config()
    module_name = str(config.get("module", DEFAULT_MODULE))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    loaded = sys.modules.get(module_name)
    if loaded is not None and not _inside(getattr(loaded, "__file__", None), root):
        # a module of that name from another project (path components compared: the
        # project /tmp/a1 does not own /tmp/a12/pipelines.py), or a namespace package
        del sys.modules[module_name]
    missing = ConfigError(
        f"no pipelines module {module_name!r} under {root}; create {module_name}.py with "
        "register_pipelines(), set [pipelines] module in mloop.toml, or run `mloop init`."
    )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise missing from None
    if "module" not in config and not _inside(getattr(module, "__file__", None), root):
        # the default name found elsewhere on sys.path (a folder called "pipelines", another
        # package's module) is not this project's: a configured module may live anywhere
        del sys.modules[module_name]
        raise missing
    register = getattr(module, "register_pipelines", None)
    if callable(register):
        found = register()
    else:
        found = {
            k: v
            for k, v in vars(module).items()
            if isinstance(v, Pipeline) and not k.startswith("_")
        }
    if not isinstance(found, dict) or not all(isinstance(v, Pipeline) for v in found.values()):
        raise ConfigError(
            f"{module_name}.register_pipelines() must return a dict of names to Pipeline objects."
        )
    pipelines = dict(found)
    default = config.get("default")
    if default and DEFAULT not in pipelines:
        if default not in pipelines:
            raise ConfigError(
                f"mloop.toml [pipelines] default = {default!r} is not a registered pipeline."
                + did_you_mean(str(default), pipelines)
            )
        pipelines[DEFAULT] = pipelines[default]
    elif DEFAULT not in pipelines and len(pipelines) == 1:
        pipelines[DEFAULT] = next(iter(pipelines.values()))
    return pipelines


def _inside(path: str | None, root: Path) -> bool:
    """Whether the module file ``path`` lies under the project folder ``root``."""
    return bool(path) and Path(str(path)).resolve().is_relative_to(root.resolve())


def find_pipeline(name: str | None) -> tuple[str, Pipeline]:
    """``(name, pipeline)`` of a registered pipeline; the default one when ``name`` is None.

    Raises:
        NotFound: no pipeline has that name (the nearest one is suggested).
    """
    pipelines = list_pipelines()
    if name is None:
        if DEFAULT not in pipelines:
            raise InvalidInput(
                "this project has no default pipeline; name one (mloop run <name>) or set "
                f"[pipelines] default in mloop.toml. Pipelines: {', '.join(sorted(pipelines))}."
            )
        _, config = _config()
        default = config.get("default")
        label = (
            str(default)
            if default
            else next(
                (k for k, v in pipelines.items() if k != DEFAULT and v == pipelines[DEFAULT]),
                DEFAULT,
            )
        )
        return label, pipelines[DEFAULT]
    found = pipelines.get(name)
    if found is None:
        names = [k for k in pipelines if k != DEFAULT]
        raise NotFound(
            f"pipeline {name!r} is not registered."
            + did_you_mean(name, names)
            + f" Pipelines: {', '.join(sorted(names)) or '(none)'}."
        )
    return name, found
