"""Create (once) and use a peer tool's own virtual environment for a benchmark.

    python = peer_python("mlflow", ["mlflow==3.*"])
    result = run_peer(python, "benchmarks/tracking/peer_mlflow.py", ["--values", "10000"])

The environment lives in ``benchmarks/.venv-<name>`` (git-ignored) so a peer's
dependencies never mix with mloop's, and the peer is measured in the same run as mloop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def peer_python(name: str, requirements: list[str]) -> Path:
    """The interpreter of the peer's environment, created and installed when missing."""
    root = HERE / f".venv-{name}"
    python = root / "bin" / "python"
    stamp = root / ".installed"
    wanted = "\n".join(requirements)
    if not stamp.exists() or stamp.read_text() != wanted:
        if not python.exists():
            venv.EnvBuilder(with_pip=True).create(root)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
        stamp.write_text(wanted)
    return python


def run_peer(
    python: Path, script: str | Path, args: list[str], timeout: float = 3600
) -> dict[str, Any]:
    """Run a peer script that prints one JSON object on its last line; return that object."""
    completed = subprocess.run(
        [str(python), str(script), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` to ``benchmarks/results/<name>.json`` and return the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return path


def this_python() -> str:
    return sys.executable
