"""The environment a model needs, built: a virtual environment with exactly the packages
recorded when the model was logged, cached by a hash of its requirements.

    env = model_env("models:/delays@champion")     # mloop models env models:/delays@champion
    subprocess.run([env.python, "-m", "mloop", "serve", "models:/delays@champion"])

Every recorded package is pinned (``numpy==2.4.6``...) and installed with pip from the
package index; mloop itself is never taken from the index (another project may own the
name there): it is installed from a wheel built from the local mloop project, the one
this process runs, or from ``mloop_source`` (a wheel file or a project folder). The
environment lives under ``<root>/<key>``, where ``key`` hashes the Python version and the
pins, and ``<root>`` is ``[models] env_root`` / ``MLOOP_MODELS_ENV_ROOT`` (default
``<mloop home>/envs``); a second call with the same requirements reuses it, and only
reinstalls mloop when its wheel changed (seconds, not the minutes of a build). See
docs/decisions/0153-model-environments.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import InvalidInput, MloopError, NotFound
from mloop.core.log import get_logger
from mloop.registry.models import model_metadata

_log = get_logger("mloop.registry")
ROOT_ENV = "MLOOP_MODELS_ENV_ROOT"
MARKER = "mloop-env.json"
LOCK_FILE = "requirements.lock"
_UNLOCKED = ("mloop", "pip")  # mloop comes from its wheel; pip is the installer


@dataclass(frozen=True)
class Requirements:
    """What a model's environment holds: the Python version and the exact pins of every
    recorded package but mloop (``mloop`` is the version it was logged with)."""

    python_version: str
    pins: tuple[str, ...]
    mloop: str | None

    @classmethod
    def of(cls, meta: dict[str, Any]) -> Requirements:
        versions = dict(meta.get("library_versions") or {})
        pins = tuple(sorted(f"{n}=={v}" for n, v in versions.items() if n != "mloop"))
        python = str(meta.get("python_version") or platform.python_version())
        return cls(python, pins, versions.get("mloop"))

    def key(self) -> str:
        minor = ".".join(self.python_version.split(".")[:2])
        return hashlib.sha256("\n".join([minor, *self.pins]).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class ModelEnv:
    """A built environment: its folder, its interpreter and whether this call built it."""

    path: Path
    python: Path
    key: str
    requirements: Requirements
    wheel: Path
    built: bool
    seconds: float

    def lock(self) -> list[str]:
        """``name==version`` of every distribution installed in it (but mloop and pip)."""
        return (self.path / LOCK_FILE).read_text().splitlines()


class EnvBuildError(MloopError):
    """pip (or venv) failed while building a model's environment."""


def env_root() -> Path:
    """Where model environments are cached."""
    raw = os.environ.get(ROOT_ENV) or get_settings().section("models").get("env_root")
    return Path(str(raw)) if raw else get_settings().home / "envs"


def project_of_running_mloop() -> Path | None:
    """The mloop project folder this process imports mloop from (a source checkout or an
    editable install), or None for an installed wheel."""
    package = Path(__file__).resolve().parents[2]  # mloop/registry/flavors/venv.py
    for candidate in (package.parent.parent, package.parent):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and 'name = "mloop"' in pyproject.read_text():
            return candidate
    return None


def mloop_wheel(source: str | os.PathLike[str] | None = None) -> Path:
    """A wheel of mloop: ``source`` when it is one, else built (once per source content)
    from ``source`` or the running mloop's project folder.

    Raises:
        NotFound: no wheel or project was given and the running mloop has none.
    """
    given = Path(source) if source is not None else project_of_running_mloop()
    if given is None:
        raise NotFound(
            "mloop is not installed from a project folder here, and mloop is never taken from "
            "the package index; pass the mloop wheel or project folder: --mloop-source "
            "dist/mloop-0.1.0-py3-none-any.whl (or MLOOP_SOURCE)."
        )
    if given.is_file() and given.suffix == ".whl":
        return given
    if not (given / "pyproject.toml").is_file():
        raise NotFound(
            f"mloop source {str(given)!r} is neither a .whl file nor a project folder with a "
            "pyproject.toml; pass one of those."
        )
    digest = _tree_digest(given)
    folder = env_root() / "wheels" / digest
    wheels = sorted(folder.glob("mloop-*.whl"))
    if wheels:
        return wheels[0]
    tmp = folder.with_name(f".{digest}.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp), str(given)],
        tmp.parent / f".{digest}.log",
        "building the mloop wheel",
    )
    try:
        tmp.rename(folder)
    except OSError:  # another process built it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(folder.glob("mloop-*.whl"))[0]


def _tree_digest(project: Path) -> str:
    """A hash of the files a wheel of ``project`` is built from."""
    digest = hashlib.sha256()
    files = [project / "pyproject.toml", *sorted((project / "src").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(project)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def model_env(
    model_uri: str,
    mloop_source: str | os.PathLike[str] | None = None,
    python: str | os.PathLike[str] | None = None,
    rebuild: bool = False,
) -> ModelEnv:
    """The environment of ``model_uri`` (built now, or found in the cache).

    Raises:
        InvalidInput: the interpreter's Python version differs from the model's.
        EnvBuildError: venv or pip failed (the message ends with pip's last lines).
    """
    meta = model_metadata(model_uri)
    return build(Requirements.of(meta), f"model {model_uri}", mloop_source, python, rebuild)


def build(
    requirements: Requirements,
    label: str,
    mloop_source: str | os.PathLike[str] | None = None,
    python: str | os.PathLike[str] | None = None,
    rebuild: bool = False,
) -> ModelEnv:
    """The environment holding ``requirements`` (see :func:`model_env`)."""
    from filelock import FileLock

    started = time.perf_counter()
    interpreter = str(python or sys.executable)
    _check_python(interpreter, requirements, label)
    wheel = mloop_wheel(mloop_source or os.environ.get("MLOOP_SOURCE") or None)
    wheel_sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    key = requirements.key()
    path = env_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        marker = path / MARKER
        built = rebuild or not marker.is_file()
        if built:
            shutil.rmtree(path, ignore_errors=True)  # an unfinished build has no marker
            log = path.with_name(path.name + ".log")
            _run([interpreter, "-m", "venv", str(path)], log, f"creating the env of {label}")
            python = str(_python_in(path))
            pip = [python, "-m", "pip", "install", "--no-input"]
            _run([*pip, *requirements.pins, str(wheel)], log, f"installing the packages of {label}")
            _finish(path, requirements, wheel_sha)
        elif json.loads(marker.read_text()).get("mloop_wheel_sha256") != wheel_sha:
            _reinstall_mloop(path, wheel, label)
            _finish(path, requirements, wheel_sha)
    seconds = time.perf_counter() - started
    if built:
        _log.info("%s: environment %s built in %.0f s", label, path, seconds)
    return ModelEnv(path, _python_in(path), key, requirements, wheel, built, seconds)


def _python_in(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _check_python(interpreter: str, requirements: Requirements, label: str) -> None:
    found = subprocess.run(
        [interpreter, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=False,
    )
    have = found.stdout.strip()
    if found.returncode != 0 or not have:
        raise InvalidInput(f"python {interpreter!r} does not run; give a Python interpreter.")
    wanted = requirements.python_version
    if have.split(".")[:2] != wanted.split(".")[:2]:
        raise InvalidInput(
            f"{label} was logged with Python {wanted}, and {interpreter} is Python {have}; "
            f"pass a Python {'.'.join(wanted.split('.')[:2])} interpreter: --python "
            f"/usr/bin/python{'.'.join(wanted.split('.')[:2])}."
        )


def _reinstall_mloop(path: Path, wheel: Path, label: str) -> None:
    """Replace mloop in an existing environment by ``wheel`` (and add any dependency the
    new wheel has that the environment lacks)."""
    log = path.with_name(path.name + ".log")
    pip = [str(_python_in(path)), "-m", "pip", "install", "--no-input"]
    what = f"updating mloop in the environment of {label}"
    _run([*pip, "--force-reinstall", "--no-deps", str(wheel)], log, what)
    _run([*pip, str(wheel)], log, what)


def _finish(path: Path, requirements: Requirements, wheel_sha: str) -> None:
    """Write the lock (``pip freeze`` less mloop) and, last, the marker of a complete env."""
    frozen = subprocess.run(
        [str(_python_in(path)), "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
        env=clean_env(),
    ).stdout.splitlines()
    lock = sorted(
        line for line in frozen if line and re.split(r"[\s=@\[]", line)[0].lower() not in _UNLOCKED
    )
    (path / LOCK_FILE).write_text("\n".join(lock) + "\n")
    marker = {
        "python_version": requirements.python_version,
        "pins": list(requirements.pins),
        "logged_with_mloop": requirements.mloop,
        "mloop_wheel_sha256": wheel_sha,
        "updated_at": time.time(),
    }
    (path / MARKER).write_text(json.dumps(marker, indent=2))


def clean_env() -> dict[str, str]:
    """This process's environment without what would make a child Python import packages
    from outside its own environment (``PYTHONPATH``, the user's site folder)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(command: list[str], log: Path, what: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as stream:
        stream.write(f"$ {' '.join(command)}\n")
        stream.flush()
        done = subprocess.run(
            command, stdout=stream, stderr=subprocess.STDOUT, env=clean_env(), check=False
        )
    if done.returncode != 0:
        lines = [
            line
            for line in log.read_text().splitlines()
            if line.strip() and "is ignored: it is neither a file nor a directory" not in line
        ]
        tail = "\n".join(lines[-8:])
        raise EnvBuildError(
            f"{what} failed (exit {done.returncode}); the full log is {log}. Its last lines:\n"
            f"{tail}\nCheck that the pinned versions exist on the package index for this "
            "platform, or log the model again with versions that do."
        )


def run_in(env: ModelEnv, args: list[str]) -> int:
    """Run ``python -m mloop <args>`` with the environment's interpreter, in this folder
    with this process's settings, until it exits; Ctrl-C and SIGTERM are passed on."""
    import signal

    child = subprocess.Popen([str(env.python), "-m", "mloop", *args], env=clean_env())

    def forward(number: int, _frame: object) -> None:
        child.send_signal(number)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
