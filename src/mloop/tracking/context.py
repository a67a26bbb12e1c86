"""What every run records without being asked: code version, environment and origin.

Tags: ``mloop.user``, ``mloop.source.name``, ``mloop.source.command`` (secrets masked,
see :mod:`.redact`), ``mloop.host``,
``mloop.python_version``, and inside a git repository ``mloop.source.git.commit``,
``mloop.source.git.branch`` and ``mloop.source.git.dirty``. Artifacts:
``system/requirements.txt`` (installed distributions) and, when the working tree has
uncommitted changes, ``system/git_diff.patch``.
"""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path

from mloop.tracking.redact import mask_command


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout if completed.returncode == 0 else None


def git_state(cwd: Path | None = None) -> tuple[dict[str, str], str | None]:
    """Git tags of the working folder and its uncommitted diff (None when clean or no repo)."""
    cwd = cwd or Path.cwd()
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return {}, None
    branch = (_git(["rev-parse", "--abbrev-ref", "HEAD"], cwd) or "").strip()
    diff = _git(["diff", "HEAD", "--no-color"], cwd) or ""
    untracked = (_git(["ls-files", "--others", "--exclude-standard"], cwd) or "").strip()
    dirty = bool(diff.strip() or untracked)
    if untracked:
        diff += "\n# untracked files:\n" + "\n".join(
            f"#   {name}" for name in untracked.splitlines()
        )
    tags = {
        "mloop.source.git.commit": commit.strip(),
        "mloop.source.git.branch": branch,
        "mloop.source.git.dirty": "true" if dirty else "false",
    }
    return tags, (diff if dirty else None)


def process_tags(user: str) -> dict[str, str]:
    """Tags describing the process that runs the code (cheap: no subprocess)."""
    argv = sys.argv or [""]
    return {
        "mloop.user": user,
        "mloop.source.name": argv[0],
        "mloop.source.command": mask_command(argv),
        "mloop.host": socket.gethostname(),
        "mloop.python_version": platform.python_version(),
    }


@cache
def requirements() -> str:
    """``name==version`` of every installed distribution, sorted (like ``pip freeze``).

    Read from the ``*.dist-info`` folder names on ``sys.path``: a directory listing, where
    parsing every distribution's metadata takes about a second in a large environment.
    """
    import os

    seen: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info") and "-" in entry:
                name, _, version = entry[: -len(".dist-info")].partition("-")
                seen.setdefault(
                    name.lower().replace("_", "-"), f"{name.replace('_', '-')}=={version}"
                )
    return "\n".join(seen[key] for key in sorted(seen)) + "\n"
