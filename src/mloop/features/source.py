"""Where a feature view reads its rows: a DataFrame, a Parquet path or a registered dataset.

Every source is read as Parquet by DuckDB. A DataFrame is written once, when its view is
applied, into the artifact store under its content hash, so the definition stays
reproducible and other processes (the CLI, the server) read the same rows. A registered
dataset is pinned to the version it had when the view was applied (``flights@latest``
becomes ``flights@3``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.data import datasets
from mloop.store.lineage import Node

if TYPE_CHECKING:
    import pandas as pd

    from mloop.store.artifacts import ArtifactStore

DATAFRAME, PARQUET, DATASET = "dataframe", "parquet", "dataset"
_DATASET_PREFIX = "dataset:"


@dataclass(frozen=True)
class Source:
    """A resolved or resolvable source. Build it with :func:`as_source`."""

    kind: str
    location: str = ""  # Parquet path or glob (or URL); for DataFrames the artifact key
    dataset: str = ""  # the dataset reference, e.g. "flights@3"
    sha256: str = ""  # content hash of a DataFrame snapshot
    frame: Any = field(default=None, compare=False, repr=False)

    @property
    def resolved(self) -> bool:
        return self.kind == PARQUET or bool(self.location)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "location": self.location,
            "dataset": self.dataset,
            "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(
            data["kind"], data.get("location", ""), data.get("dataset", ""), data.get("sha256", "")
        )

    def describe(self) -> str:
        if self.kind == DATASET:
            return f"dataset {self.dataset}"
        if self.kind == DATAFRAME:
            return f"DataFrame snapshot {self.sha256[:12]}" if self.sha256 else "DataFrame"
        return self.location

    def resolve(self, artifacts: ArtifactStore) -> Source:
        """Pin the source: snapshot a DataFrame, resolve a dataset reference to its version."""
        if self.kind == DATAFRAME and not self.location:
            return _snapshot(self.frame, artifacts)
        if self.kind == DATASET:
            version = _dataset_version(self.dataset)
            return Source(DATASET, str(version.uri), str(version.key))
        return self

    def path(self, artifacts: ArtifactStore) -> str:
        """The Parquet path (or glob, or URL) DuckDB reads."""
        if not self.resolved:
            raise InvalidInput(
                f"source {self.describe()} is not applied yet; call store.apply([...]) first."
            )
        if self.kind == DATAFRAME:
            return artifacts.uri(self.location)
        return self.location

    def lineage_node(self) -> Node:
        if self.kind == DATASET:
            return Node("dataset_version", self.dataset)
        if self.kind == DATAFRAME:
            return Node("artifact", self.location)
        return Node("external", self.location)


def as_source(value: Any) -> Source:
    """A :class:`Source` from what a user passes as ``source=``.

    Accepted: a pandas DataFrame, a Parquet file, folder or glob (``str`` or ``Path``),
    ``"dataset:name@version"``, or a registered dataset version (``mloop.data.get_version``).
    """
    if isinstance(value, Source):
        return value
    if hasattr(value, "key") and hasattr(value, "uri") and hasattr(value, "lineage_node"):
        return Source(DATASET, str(value.uri), str(value.key))
    if isinstance(value, str) and value.startswith(_DATASET_PREFIX):
        return Source(DATASET, dataset=value[len(_DATASET_PREFIX) :])
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if "://" not in text:
            text = str(Path(text).expanduser().resolve())
        return Source(PARQUET, text)
    if type(value).__name__ == "DataFrame" and hasattr(value, "columns"):
        return Source(DATAFRAME, frame=value)
    raise InvalidInput(
        f"source {type(value).__name__} is not a feature source; pass a pandas DataFrame, a "
        "Parquet path, 'dataset:name@version' or a registered dataset version."
    )


def _snapshot(frame: pd.DataFrame, artifacts: ArtifactStore) -> Source:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(
            f"the source DataFrame cannot be stored as Parquet: {exc}. Give each column one type."
        ) from None
    pq.write_table(table, buffer)
    info = artifacts.put_content_addressed(buffer.getvalue(), suffix=".parquet")
    return Source(DATAFRAME, info.key, sha256=info.sha256)


def _dataset_version(reference: str) -> Any:
    return datasets.get_version(reference)
