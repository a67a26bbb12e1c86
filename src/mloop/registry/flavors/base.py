"""What every flavor hands back when it saves a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Saved:
    """A saved model: its files (name -> bytes), the flavor's metadata, and the
    distributions it needs at load time (their versions are recorded at log time)."""

    files: dict[str, bytes]
    meta: dict[str, Any] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
