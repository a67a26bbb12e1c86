"""Parameters: ``[params]`` of mloop.toml, then ``conf/base``, then ``conf/<env>`` YAML.

Layers, later ones overriding earlier ones key by key (nested tables are merged)::

    mloop.toml            [params]  model.max_iter = 100
    conf/base/parameters.yml        model: {max_iter: 200}
    conf/local/parameters.yml       (the default env; `--env prod` reads conf/prod/ instead)
    run(..., params={...})          overrides given at run time (`--params model.max_iter=50`)

A node reads ``params:model.max_iter`` (one value, dotted path into the tables) or
``parameters`` (every parameter as one dict).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError, InvalidInput, NotFound, did_you_mean

__all__ = ["load_params", "lookup", "merge", "parse_overrides"]

DEFAULT_ENV = "local"
BASE_ENV = "base"
CONF = "conf"


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``; nested dicts are merged key by key."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path`` (empty when the file is empty), with clear errors."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{path} is not valid YAML{where}: {problem}. Fix the syntax there."
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} holds a {type(data).__name__}; it must be a mapping of names to values "
            "(e.g. 'threshold: 15')."
        )
    return data


def env_folders(root: Path, env: str | None) -> list[Path]:
    """``conf/base`` then ``conf/<env>`` (``local`` by default), the ones that exist."""
    chosen = env or DEFAULT_ENV
    conf = root / CONF
    if env and env != BASE_ENV and not (conf / env).is_dir():
        known = sorted(p.name for p in conf.iterdir() if p.is_dir()) if conf.is_dir() else []
        raise NotFound(
            f"environment {env!r} has no folder {conf / env}."
            + did_you_mean(env, known)
            + f" Environments: {', '.join(known) or '(none)'}; create the folder to add one."
        )
    folders = [conf / BASE_ENV]
    if chosen != BASE_ENV:
        folders.append(conf / chosen)
    return [f for f in folders if f.is_dir()]


def load_params(
    root: Path | None = None,
    env: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every parameter of the project at ``root`` in environment ``env``.

    Example:
        >>> load_params(env="prod")["model"]["max_iter"]

    Raises:
        ConfigError: a parameter file is not valid YAML (the message gives the line).
        NotFound: ``env`` names no folder under ``conf/``.
    """
    settings = get_settings()
    root = root or settings.root
    params: dict[str, Any] = settings.section("params") if root == settings.root else {}
    for folder in env_folders(root, env):
        for path in sorted(folder.glob("parameters*.yml")) + sorted(
            folder.glob("parameters*.yaml")
        ):
            params = merge(params, read_yaml(path))
    return merge(params, _expand(dict(overrides or {})))


def _expand(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"model.max_iter": 5}`` -> ``{"model": {"max_iter": 5}}`` (dicts pass through)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = str(key).split(".")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise InvalidInput(f"parameter override {key!r} conflicts with another override.")
        target[parts[-1]] = value
    return out


def lookup(params: Mapping[str, Any], path: str) -> Any:
    """The value at dotted ``path`` (``model.max_iter``), or NotFound naming the nearest key."""
    value: Any = params
    walked: list[str] = []
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            choices = list(value) if isinstance(value, Mapping) else []
            where = ".".join(walked) or "the parameters"
            raise NotFound(
                f"parameter 'params:{path}' is not defined: {where} has no key {part!r}."
                + did_you_mean(part, choices)
                + " Define it in conf/base/parameters.yml or [params] of mloop.toml."
            )
        value = value[part]
        walked.append(part)
    return value


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["model.max_iter=50", "name=x"]`` -> values parsed as YAML scalars."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                f"parameter override {item!r} has no '='; write it as key=value, e.g. "
                "model.max_iter=50."
            )
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out
