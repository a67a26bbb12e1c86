"""The stock ``mlflow`` client in its own virtual environment, for end-to-end tests.

MLflow's pins conflict with mloop's, so the client lives in ``.venv-mlflow-client`` at the
repository root (git-ignored), created and installed on first use, and each scenario runs
as a user's script would: a separate Python process with ``MLFLOW_TRACKING_URI`` set.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path
from typing import Any

from filelock import FileLock

ROOT = Path(__file__).resolve().parents[3]
VENV = ROOT / ".venv-mlflow-client"
REQUIREMENTS = ["mlflow==3.18.0"]


def client_python() -> Path:
    """The interpreter of the client's environment, created and installed when missing."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = "\n".join(REQUIREMENTS)
    # test workers may ask at once: one installs, the others wait for it
    with FileLock(str(ROOT / ".venv-mlflow-client.lock"), timeout=1800):
        if not stamp.exists() or stamp.read_text() != wanted:
            if not python.exists():
                venv.EnvBuilder(with_pip=True).create(VENV)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
                check=True,
                timeout=1800,
            )
            stamp.write_text(wanted)
    return python


def run_client(
    script: Path, tracking_uri: str, *args: str, token: str | None = None, timeout: float = 600
) -> Any:
    """Run ``script`` with the MLflow client against ``tracking_uri`` (sending ``token`` as
    MLflow's bearer token); return the JSON object it prints on its last line (its stderr
    is shown when it fails)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLOOP_", "MLFLOW_")) and key != "PYTHONPATH"
    }
    env.update(
        MLFLOW_TRACKING_URI=tracking_uri,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",  # a server error fails the test at once
        GIT_PYTHON_REFRESH="quiet",
    )
    if token is not None:
        env["MLFLOW_TRACKING_TOKEN"] = token
    completed = subprocess.run(
        [str(client_python()), str(script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise AssertionError(
            f"the MLflow client script failed ({completed.returncode}):\n{completed.stderr[-6000:]}"
        )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])
