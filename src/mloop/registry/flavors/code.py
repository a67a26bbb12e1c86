"""The ``code`` flavor: a model is a Python file defining a class with ``predict``.

    mloop.log_model("model.py", "model", artifacts={"weights": "w.npy"})
    mloop.log_model("model.py:Delays", ...)          # when the file has several classes

The file is stored as source (checksummed like every artifact) with its artifacts;
loading imports that source in a fresh module, builds the class with no arguments and
calls its optional ``load_context(artifacts)`` with ``{name: local path}``. Nothing is
unpickled. Loading runs the model's code, so a serving host can refuse code models with
``[models] allow_code = false`` (see docs/flavors.md).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import inspect
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from mloop.core.errors import InvalidInput, NotFound
from mloop.registry.flavors import environment, trust
from mloop.registry.flavors.base import ModelFiles, Saved

CODE_FILE = "code/model.py"
ARTIFACTS = "artifacts"
MODULE_PREFIX = "mloop_model_"


def is_code(model: Any) -> bool:
    """True for a path (or ``path:Class``) naming a ``.py`` file."""
    return isinstance(model, (str, os.PathLike)) and str(model).partition(":")[0].endswith(".py")


def source_files(
    reference: str | os.PathLike[str], label: str
) -> tuple[dict[str, bytes | Path], dict[str, Any]]:
    """The stored form of a code file: ``{CODE_FILE: source}`` and its metadata (sha256,
    the class named as ``path:Class``, and the distributions the source imports)."""
    path_text, _, class_name = str(reference).partition(":")
    path = Path(path_text)
    if not path.is_file():
        raise NotFound(f"{label}: model code file {path_text!r} does not exist; check the path.")
    source = path.read_bytes()
    try:
        imported = environment.imported_modules(source.decode())
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"{label}: model code file {path_text!r} is not Python ({exc})."
        ) from None
    meta = {
        "code_file": CODE_FILE,
        "code_sha256": hashlib.sha256(source).hexdigest(),
        "model_class": class_name or None,
        "code_imports": environment.distributions_of(imported),
    }
    return {CODE_FILE: source}, meta


def save(reference: str | os.PathLike[str], artifacts: dict[str, Any] | None, label: str) -> Saved:
    """The source and artifacts of a code model, checked by building it here first."""
    files, meta = source_files(reference, label)
    local: dict[str, str] = {}
    stored: dict[str, dict[str, Any]] = {}
    for name, value in (artifacts or {}).items():
        where = Path(value)
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidInput(
                f"{label}: artifact name {name!r} is not valid; use a name such as 'weights'."
            )
        if not where.exists():
            raise NotFound(
                f"{label}: artifact {name!r} points to {str(value)!r}, which does not exist."
            )
        key = f"{ARTIFACTS}/{name}/{where.name}"
        files[key] = where
        stored[name] = {"path": key, "folder": where.is_dir()}
        local[name] = str(where.resolve())
    source = files[CODE_FILE]
    assert isinstance(source, bytes)
    module = import_source(source, label, {}, {})
    cls = model_class(module, meta["model_class"], label)
    predictor = _build(cls, local, label)
    meta = {**meta, "model_class": cls.__name__, "artifacts": stored}
    return Saved(files, meta, tuple(meta["code_imports"].values()), predictor)


def load(files: ModelFiles, meta: dict[str, Any], label: str) -> Any:
    """The model built from its stored source, with its artifacts downloaded locally."""
    if not trust.code_allowed():
        raise InvalidInput(
            f"{label} is a model from code, and this host refuses code models "
            f"([models] allow_code = false or {trust.CODE_ENV}=false); serve it from a host "
            "that allows them, or log the model in a data-only flavor."
        )
    source = files.read(str(meta.get("code_file", CODE_FILE)))
    folder = Path(tempfile.mkdtemp(prefix="mloop-model-"))
    atexit.register(shutil.rmtree, folder, True)
    local: dict[str, str] = {}
    for name, entry in dict(meta.get("artifacts") or {}).items():
        target = folder / str(entry["path"])
        try:
            files.download(str(entry["path"]), target, folder=bool(entry.get("folder")))
        except NotFound:
            raise NotFound(
                f"{label}: its artifact {name!r} ({entry['path']}) is missing from the artifact "
                "store; log the model again with that artifact."
            ) from None
        local[name] = str(target)
    recorded = dict(meta.get("library_versions") or {})
    module = import_source(source, label, dict(meta.get("code_imports") or {}), recorded)
    cls = model_class(module, meta.get("model_class"), label)
    return _build(cls, local, label)


def import_source(
    source: bytes, label: str, providers: dict[str, str], recorded: dict[str, str]
) -> ModuleType:
    """``source`` imported as a fresh module; a failure names the model and the fix
    (``providers``: module -> distribution, ``recorded``: the versions logged with it)."""
    where = f"<code of {label}>"
    name = f"{MODULE_PREFIX}{hashlib.sha256(source).hexdigest()[:16]}"
    spec = importlib.util.spec_from_loader(name, loader=None, origin=where)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = where
    sys.modules[name] = module  # dataclasses and typing look their module up by name
    try:
        exec(compile(source, where, "exec"), module.__dict__)  # the model's own code
    except ModuleNotFoundError as exc:
        sys.modules.pop(name, None)
        missing = (exc.name or "").split(".")[0]
        raise InvalidInput(
            f"{label}: its code failed to import, no module named {missing!r}; "
            + environment.install_hint(missing, providers, recorded)
            + "."
        ) from None
    except Exception as exc:
        sys.modules.pop(name, None)
        raise InvalidInput(
            f"{label}: its code failed to import ({type(exc).__name__}: {exc}); fix the model "
            "file and log it again."
        ) from None
    return module


def loaded_modules() -> list[ModuleType]:
    """The modules built from models' stored code in this process. No other process can
    import them by name, so a pickler that ships a model elsewhere (Ray's cloudpickle)
    must carry their classes by value."""
    return [m for n, m in list(sys.modules.items()) if n.startswith(MODULE_PREFIX)]


def model_class(
    module: ModuleType, class_name: str | None, label: str, method: str = "predict"
) -> type:
    """The class of ``module`` named ``class_name`` (or its only class) with ``method``."""
    classes = {
        n: c
        for n, c in vars(module).items()
        if inspect.isclass(c)
        and c.__module__ == module.__name__
        and callable(getattr(c, method, None))
    }
    if class_name:
        if class_name not in classes:
            raise InvalidInput(
                f"{label}: its code defines no class {class_name!r} with a {method} method"
                + (f"; it defines {', '.join(sorted(classes))}." if classes else ".")
            )
        return classes[class_name]
    if len(classes) != 1:
        raise InvalidInput(
            f"{label}: its code must define exactly one class with a {method} method, found "
            + (", ".join(sorted(classes)) or "none")
            + "; name the class as 'model.py:ClassName'."
        )
    return next(iter(classes.values()))


def _build(cls: type, artifacts: dict[str, str], label: str) -> Any:
    try:
        model = cls()
        if callable(getattr(model, "load_context", None)):
            model.load_context(dict(artifacts))
    except Exception as exc:
        raise InvalidInput(
            f"{label}: building {cls.__name__}() and its load_context(artifacts) failed "
            f"({type(exc).__name__}: {exc}); the class must take no arguments and load its "
            "artifacts from the paths it is given."
        ) from None
    return model
