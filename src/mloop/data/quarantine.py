"""Quarantine: rows that fail error-level checks are set aside with the names of those checks.

Every row of the input ends up in exactly one of ``clean`` and ``quarantined``, so
``len(clean) + len(quarantined) == len(data)`` always. The quarantined rows keep their
index and gain a :data:`FAILED_CHECKS` column (``"not_null(pressure); between(wind_speed)"``);
they are also stored as a new version of a quarantine dataset, where the original index
is kept in the :data:`ROW_COLUMN` column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.data.datasets import register
from mloop.store import get_store
from mloop.store.lineage import add_edge

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.data.datasets import DatasetVersion

__all__ = ["FAILED_CHECKS", "ROW_COLUMN", "split", "store"]

FAILED_CHECKS = "_failed_checks"
"""The column of a quarantined row that names the checks it failed."""
ROW_COLUMN = "_row"
SEPARATOR = "; "


def split(
    frame: pd.DataFrame, failing: list[tuple[str, np.ndarray]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(clean, quarantined)`` for the failing-row masks of named checks.

    A row failing several checks is quarantined once, with every check's name.
    """
    import numpy as np

    rows = len(frame)
    matrix = np.zeros((rows, len(failing)), dtype=bool)
    for column, (_, mask) in enumerate(failing):
        matrix[:, column] = mask
    bad = matrix.any(axis=1) if failing else np.zeros(rows, dtype=bool)
    clean: Any = frame[~bad]
    quarantined: Any = frame[bad].copy()
    if not failing or not bad.any():
        quarantined[FAILED_CHECKS] = np.array([], dtype=object)
        return clean, quarantined
    # rows with the same set of failed checks share one label: label each distinct set once
    packed = np.packbits(matrix[bad], axis=1)
    patterns, inverse = np.unique(packed, axis=0, return_inverse=True)
    labels = []
    for pattern in patterns:
        flags = np.unpackbits(pattern)[: len(failing)].astype(bool)
        labels.append(
            SEPARATOR.join(name for (name, _), flag in zip(failing, flags, strict=True) if flag)
        )
    quarantined[FAILED_CHECKS] = np.asarray(labels, dtype=object)[inverse.reshape(-1)]
    return clean, quarantined


def store(
    quarantined: pd.DataFrame, name: str, source: DatasetVersion | None = None
) -> DatasetVersion | None:
    """Register the quarantined rows as a new version of dataset ``name`` (None when there are none)."""
    if quarantined.empty:
        return None
    import pandas as pd

    frame = quarantined.copy()
    index = frame.index
    labels = index.map(str).to_numpy() if isinstance(index, pd.MultiIndex) else index.to_numpy()
    column = ROW_COLUMN
    while column in frame.columns:
        column = "_" + column
    frame.insert(0, column, labels)
    frame = frame.reset_index(drop=True)
    origin = f" from {source.key}" if source is not None else ""
    version = register(name, frame, description=f"rows that failed data checks{origin}")
    if source is not None:
        add_edge(get_store(), source.lineage_node(), "quarantined_to", version.lineage_node())
    return version
