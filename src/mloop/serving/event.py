"""What flows through a graph: one batch of requests, their data and what each step added."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass
class LogRecord:
    """Rows one model answered (``positions`` in the batch; all rows when None)."""

    model_name: str
    model_version: str
    outputs: pd.DataFrame
    positions: np.ndarray | None = None
    latency_ms: float | None = None


@dataclass
class Event:
    """A batch of requests on its way through the steps of a graph.

    ``frame`` is what the next step receives: the request rows (enriched) before the model,
    the model's outputs after it. ``inputs`` keeps the rows as received and ``features``
    the columns an enrichment step added, for the prediction log.
    """

    request_ids: list[str]
    inputs: pd.DataFrame
    frame: pd.DataFrame
    features: pd.DataFrame | None = None
    outputs: pd.DataFrame | None = None
    versions: list[str] | None = None
    records: list[LogRecord] = field(default_factory=list)
    sink: Callable[[Event, LogRecord], None] | None = None  # logs late records (shadow)
    extras: dict[str, Any] = field(default_factory=dict)
    input_columns: dict[str, Any] | None = None  # ``inputs`` as arrays, for the log

    @property
    def rows(self) -> int:
        return len(self.request_ids)

    def answered(self, record: LogRecord, versions: list[str] | str) -> None:
        """Make ``record`` the answer of the batch (the graph's response)."""
        self.outputs = record.outputs
        self.frame = record.outputs
        self.versions = [versions] * self.rows if isinstance(versions, str) else versions
        self.records.append(record)
