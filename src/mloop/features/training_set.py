"""TrainingSet: the record of a built training set, loggable as a run input.

``store.get_training_set(...)`` returns a pandas DataFrame; its record is in
``df.attrs["training_set"]`` (or :func:`training_set_of`), and ``mloop.log_input(...)``
accepts it because it has :meth:`TrainingSet.lineage_node`. Lineage: every feature view
version used --feature_of--> the training set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core import display
from mloop.core.errors import InvalidInput, NotFound
from mloop.store import lineage
from mloop.store.lineage import Node
from mloop.store.schema.features import TrainingSetRecord

if TYPE_CHECKING:
    import pandas as pd

    from mloop.store.db import MetadataStore

ATTR = "training_set"


@dataclass(frozen=True)
class TrainingSet:
    """A training set: its id, features, the view versions read and the entity frame summary."""

    id: str
    features: tuple[str, ...]
    views: dict[str, int]
    num_rows: int
    created_at: int
    entity_sha256: str
    entity_columns: tuple[str, ...] = ()
    timestamp_column: str | None = None
    artifact_key: str | None = None
    created_by: str = field(default="", compare=False)

    def lineage_node(self) -> Node:
        return Node("training_set", self.id)

    def __str__(self) -> str:
        return f"training set {self.id} ({self.num_rows} rows, {len(self.features)} features)"

    def _repr_html_(self) -> str:
        """Rows, entity columns and each feature with the view version it came from."""
        head = {
            "id": self.id,
            "rows": self.num_rows,
            "features": len(self.features),
            "entity columns": ", ".join(self.entity_columns) or None,
            "timestamp": self.timestamp_column,
            "built": display.when(self.created_at),
            "by": self.created_by or None,
        }
        rows = []
        for feature in self.features:
            view, _, name = feature.rpartition(":")
            rows.append((name, view, self.views.get(view)))
        return display.block(
            "Training set",
            display.facts(head),
            display.table(("feature", "view", "view version"), rows, limit=50),
        )


def view_node_id(name: str, version: int) -> str:
    """The lineage id of a feature view version: ``"weather/2"``."""
    return f"{name}/{version}"


def training_set_of(df: pd.DataFrame) -> TrainingSet:
    """The :class:`TrainingSet` record of a DataFrame returned by ``get_training_set``."""
    record = getattr(df, "attrs", {}).get(ATTR)
    if not isinstance(record, TrainingSet):
        raise InvalidInput(
            "this DataFrame was not returned by FeatureStore.get_training_set (or lost its "
            "attrs); log the frame returned by get_training_set."
        )
    return record


def entity_digest(df: pd.DataFrame) -> str:
    """sha256 of the entity frame's values (row order included)."""
    import hashlib

    import numpy as np
    import pandas as pd

    digest = hashlib.sha256(json.dumps([str(c) for c in df.columns]).encode())
    for name in df.columns:
        column = df[name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biufmM":  # raw bytes
            digest.update(column.to_numpy().tobytes())
        else:
            digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def save(store: MetadataStore, record: TrainingSet) -> None:
    """Store the record and its lineage edges."""
    from sqlalchemy import insert

    row = {
        "id": record.id,
        "created_at": record.created_at,
        "created_by": record.created_by,
        "features": json.dumps(list(record.features)),
        "views": json.dumps(record.views, sort_keys=True),
        "entity_columns": json.dumps(list(record.entity_columns)),
        "timestamp_column": record.timestamp_column,
        "num_rows": record.num_rows,
        "entity_sha256": record.entity_sha256,
        "artifact_key": record.artifact_key,
    }
    store.transaction(lambda conn: conn.execute(insert(TrainingSetRecord), row))
    node = record.lineage_node()
    edges: list[tuple[Node, str, Node, dict[str, Any] | None]] = [
        (Node("feature_view_version", view_node_id(name, version)), "feature_of", node, None)
        for name, version in sorted(record.views.items())
    ]
    lineage.add_edges(store, edges)


def load(store: MetadataStore, training_set_id: str) -> TrainingSet:
    from sqlalchemy import select

    with store.read() as conn:
        row = conn.execute(
            select(TrainingSetRecord).where(TrainingSetRecord.id == training_set_id)
        ).first()
    if row is None:
        raise NotFound(
            f"training set {training_set_id!r} does not exist; list them with `mloop features list`."
        )
    return TrainingSet(
        id=row.id,
        features=tuple(json.loads(row.features)),
        views={k: int(v) for k, v in json.loads(row.views).items()},
        num_rows=row.num_rows,
        created_at=row.created_at,
        entity_sha256=row.entity_sha256,
        entity_columns=tuple(json.loads(row.entity_columns)),
        timestamp_column=row.timestamp_column,
        artifact_key=row.artifact_key,
        created_by=row.created_by,
    )
