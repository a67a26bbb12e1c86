"""Files a run keeps: ``log_artifact(s)``, ``log_text``, ``log_dict``, ``log_figure``.

Each writes into the active run's artifact folder (``runs/<run_id>/artifacts/...``) of the
artifact store and returns the key it wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.tracking import runs
from mloop.tracking.fluent import ActiveRun, _current


def _artifact_key(run: ActiveRun, *parts: str | None) -> str:
    return "/".join([runs.artifact_prefix(run.info.run_id), *(p.strip("/") for p in parts if p)])


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> str:
    """Copy a local file into the run's artifacts; returns its key in the artifact store.

    Args:
        local_path: the file to copy.
        artifact_path: a folder inside the run's artifacts to copy it into.

    Raises:
        NotFound: ``local_path`` does not exist.
    """
    run = _current()
    source = Path(local_path)
    key = _artifact_key(run, artifact_path, source.name)
    run.tracker.artifacts.put_file(key, source)
    return key


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> list[str]:
    """Copy every file under a local folder into the run's artifacts; returns their keys.

    Raises:
        NotFound: ``local_dir`` does not exist.
    """
    run = _current()
    infos = run.tracker.artifacts.put_dir(_artifact_key(run, artifact_path), local_dir)
    return [info.key for info in infos]


def log_text(text: str, artifact_file: str) -> str:
    """Save ``text`` (UTF-8) as ``artifact_file`` of the active run; returns its key.

    Args:
        text: the content of the file.
        artifact_file: its path inside the run's artifacts (``"notes/summary.txt"``).
    """
    run = _current()
    key = _artifact_key(run, artifact_file)
    run.tracker.artifacts.put_bytes(key, text.encode())
    return key


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> str:
    """Save a dict as JSON, or YAML when ``artifact_file`` ends in .yaml/.yml."""
    if artifact_file.endswith((".yaml", ".yml")):
        import yaml

        text = yaml.safe_dump(dict(dictionary), sort_keys=False)
    else:
        import json

        text = json.dumps(dictionary, indent=2, default=str)
    return log_text(text, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> str:
    """Save a matplotlib figure (format from the file extension) into the run's artifacts.

    Raises:
        InvalidInput: ``figure`` is not a matplotlib figure.
    """
    import io

    if not hasattr(figure, "savefig"):
        raise InvalidInput(f"log_figure got {type(figure).__name__}; pass a matplotlib Figure.")
    buffer = io.BytesIO()
    suffix = Path(artifact_file).suffix.lstrip(".").lower() or "png"
    figure.savefig(buffer, format=suffix, bbox_inches="tight")
    run = _current()
    key = _artifact_key(run, artifact_file)
    run.tracker.artifacts.put_bytes(key, buffer.getvalue())
    return key
