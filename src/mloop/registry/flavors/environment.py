"""The environment a model needs: exact versions of its packages and the Python version.

Recorded at log time (the flavor's libraries plus the distributions its code imports);
checked at load time, where a missing package is an error naming the version to install
and a different version is a warning, or an error where the host asks for exact versions
(``[models] exact_versions = true`` or ``MLOOP_MODELS_EXACT_VERSIONS=true``).
"""

from __future__ import annotations

import ast
import platform
import sys
from collections.abc import Iterable
from importlib import metadata

from mloop.core.errors import InvalidInput
from mloop.core.log import get_logger
from mloop.registry.flavors import trust

_log = get_logger("mloop.registry")

BASE_PACKAGES = ("mloop", "numpy", "pandas")


def imported_modules(source: str) -> set[str]:
    """Top-level names of the modules ``source`` imports (absolute imports only)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def distributions_of(modules: Iterable[str]) -> dict[str, str]:
    """``{module: distribution}`` for the installed distributions that provide ``modules``
    (the standard library and modules no distribution provides are left out)."""
    providers = metadata.packages_distributions()
    found: dict[str, str] = {}
    for module in sorted(modules):
        if module in sys.stdlib_module_names or not providers.get(module):
            continue
        found[module] = providers[module][0]
    return found


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def record(packages: Iterable[str]) -> dict[str, object]:
    """``{"python_version": ..., "library_versions": {distribution: version}}`` for the
    base packages and ``packages`` (distribution names), as installed now."""
    versions: dict[str, str] = {}
    for name in sorted({*BASE_PACKAGES, *packages}, key=_canonical):
        try:
            versions[_canonical(name)] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"python_version": platform.python_version(), "library_versions": versions}


def install_hint(module: str, providers: dict[str, str], recorded: dict[str, str]) -> str:
    """How to install the distribution that provides ``module``, at its recorded version."""
    distribution = providers.get(module, module)
    version = recorded.get(_canonical(distribution))
    pin = f"{distribution}=={version}" if version else distribution
    logged = f"the model was logged with {pin}; " if version else ""
    return f"{logged}install it: pip install '{pin}'"


def check_versions(recorded: dict[str, str], label: str) -> None:
    """Warn about each recorded package installed at another version, or with
    :func:`trust.exact_versions`, refuse the model naming the first such package.

    Raises:
        InvalidInput: exact versions are required and a package differs.
    """
    exact = trust.exact_versions()
    for name, version in recorded.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # the flavor names it with its pin when it needs it
        if installed == version or name == "mloop":
            continue
        if exact:
            raise InvalidInput(
                f"{label} was logged with {name}=={version}, and this host has {name} "
                f"{installed} while exact versions are required ([models] exact_versions); "
                f"install it: pip install '{name}=={version}', or serve the model from its own "
                "environment: mloop serve <uri> --env-manager venv."
            )
        _log.warning(
            "%s was logged with %s==%s; %s is installed here", label, name, version, installed
        )
