"""A container build context for one model: Dockerfile, requirements lock, the model's
files, mloop's wheel, and the scripts that install it and run ``mloop serve``.

    build_context("models:/delays@champion", "image/")     # mloop models build-image ...
    # docker build -t delays image/ && docker run -p 8080:8080 delays

The Dockerfile only copies the context and runs its two scripts, ``install.sh`` (pip
install of the lock and the wheel, then ``mloop models import`` of the model into the
image's own mloop home) and ``entrypoint.sh`` (``mloop serve``), so running those two
scripts in a fresh virtual environment proves the context complete without a container
engine. The lock is the ``pip freeze`` of the model's environment
(:mod:`mloop.registry.flavors.venv`), which is built or found in its cache first.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mloop.core.errors import InvalidInput, NotFound
from mloop.registry.entities import ModelVersion
from mloop.registry.flavors.venv import LOCK_FILE, model_env
from mloop.registry.models import META_FILE, parse_uri, register_model, resolve_uri
from mloop.registry.versions import set_alias
from mloop.store import get_artifacts
from mloop.tracking import start_run
from mloop.tracking.runs import artifact_prefix

_DOCKERFILE = """\
# Built by: mloop models build-image {uri} --output <this folder>
FROM python:{python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MLOOP_HOME=/app/.mloop
WORKDIR /app
COPY . /app
RUN sh /app/install.sh
EXPOSE 8080
ENTRYPOINT ["sh", "/app/entrypoint.sh"]
"""

_INSTALL = """\
#!/bin/sh
# Install the locked packages and mloop, then register the model in this image's mloop
# home (MLOOP_HOME, default: .mloop beside this script). `python` is the image's Python.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
export MLOOP_HOME="${{MLOOP_HOME:-$here/.mloop}}"
python -m pip install --no-input -r "$here/{lock}"
python -m pip install --no-input --no-deps "$here"/wheels/*.whl
python -m mloop models import "$here/model" --name {name} --alias {alias}
"""

_ENTRYPOINT = """\
#!/bin/sh
# Serve the model; MLOOP_MODEL_URI, HOST and PORT override the defaults, and further
# arguments go to mloop serve (e.g. --workers 2). Set MLOOP_TRACKING_URI to follow the
# alias on a team's mloop server instead of the copy registered at install time.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
export MLOOP_HOME="${{MLOOP_HOME:-$here/.mloop}}"
exec python -m mloop serve "${{MLOOP_MODEL_URI:-models:/{name}@{alias}}}" \\
    --host "${{HOST:-0.0.0.0}}" --port "${{PORT:-8080}}" "$@"
"""


@dataclass(frozen=True)
class BuildContext:
    """What :func:`build_context` wrote."""

    path: Path
    files: list[str]
    model_uri: str
    served_uri: str


def build_context(
    model_uri: str,
    output: str | os.PathLike[str],
    mloop_source: str | os.PathLike[str] | None = None,
) -> BuildContext:
    """Write the build context of ``model_uri`` into the empty (or new) folder ``output``.

    Raises:
        InvalidInput: ``output`` is a file or a folder that is not empty.
    """
    kind, name, ref = parse_uri(model_uri)
    if kind != "models":
        raise InvalidInput(
            f"{model_uri!r} is not a registered model; build an image of models:/<name>@<alias> "
            "or models:/<name>/<version>."
        )
    assert name is not None and ref is not None
    target = Path(output)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(
            f"--output {str(target)!r} is not an empty folder; give a new or empty folder."
        )
    folder, version = resolve_uri(model_uri)
    assert version is not None
    alias = ref if not ref.isdigit() else "serving"
    env = model_env(model_uri, mloop_source)
    target.mkdir(parents=True, exist_ok=True)
    get_artifacts().download_dir(folder, target / "model")  # each file's sha256 checked
    (target / "wheels").mkdir()
    shutil.copy2(env.wheel, target / "wheels" / env.wheel.name)
    shutil.copy2(env.path / LOCK_FILE, target / LOCK_FILE)
    python = ".".join(env.requirements.python_version.split(".")[:2])
    values = {"uri": model_uri, "python": python, "name": name, "alias": alias, "lock": LOCK_FILE}
    (target / "Dockerfile").write_text(_DOCKERFILE.format(**values))
    (target / "install.sh").write_text(_INSTALL.format(**values))
    (target / "entrypoint.sh").write_text(_ENTRYPOINT.format(**values))
    for script in ("install.sh", "entrypoint.sh"):
        (target / script).chmod(0o755)
    (target / ".dockerignore").write_text(".mloop\n")
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    return BuildContext(target, files, model_uri, f"models:/{name}@{alias}")


def import_model(
    folder: str | os.PathLike[str], name: str, alias: str | None = None
) -> ModelVersion:
    """Register the model saved in the local ``folder`` (a copy of a logged model's files,
    as a build context holds) as a new version of ``name``, and point ``alias`` at it.

    Raises:
        NotFound: ``folder`` holds no model (no ``MLmodel.json``).
    """
    source = Path(folder)
    meta_file = source / META_FILE
    if not meta_file.is_file():
        raise NotFound(
            f"{str(source)!r} holds no logged model (no {META_FILE}); give the folder of a "
            "model's files, such as the model/ folder of a build context."
        )
    json.loads(meta_file.read_text())  # a readable model description
    with start_run(run_name=f"import {name}") as run:
        run_id = run.info.run_id
        get_artifacts().put_dir(f"{artifact_prefix(run_id)}/model", source)
    version = register_model(f"runs:/{run_id}/model", name, description=f"imported from {source}")
    if alias:
        set_alias(name, alias, version.version)
    return version
