"""Helpers shared by the tracking benchmarks: subprocess workers, medians, tables."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from peer_env import peer_python, run_peer, save  # noqa: E402

MLFLOW_REQUIREMENTS = ["mlflow==3.*"]
PEER_SCRIPT = HERE / "peer_mlflow.py"

__all__ = [
    "MLFLOW_REQUIREMENTS",
    "PEER_SCRIPT",
    "drop_postgres",
    "fresh_postgres",
    "machine",
    "median",
    "mlflow_python",
    "print_table",
    "run_json",
    "run_peer",
    "save",
]


def mlflow_python() -> Path:
    """The interpreter of MLflow's own environment (created on first use)."""
    return peer_python("mlflow", MLFLOW_REQUIREMENTS)


def run_json(args: list[str], env: dict[str, str] | None = None, timeout: float = 3600) -> Any:
    """Run ``python args...`` with this interpreter; return the JSON of its last line."""
    completed = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{completed.stderr[-3000:]}")
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def machine() -> dict[str, Any]:
    """Where and when the figures were taken, with the load average (the host is shared)."""
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "load_average": [round(x, 2) for x in load],
    }


def print_table(rows: list[list[Any]], header: list[str]) -> None:
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for index, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))


def fresh_postgres(admin_url: str) -> tuple[str, str]:
    """Create an empty database on the server of ``admin_url``; return its URL and name."""
    import uuid

    import psycopg

    name = f"mloop_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_postgres(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(
        admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
