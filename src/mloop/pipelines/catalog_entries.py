"""Catalog entries: where a named dataset of a pipeline is read from and written to.

Each entry loads and saves one value and can say what its content is (``fingerprint``,
a content hash used by the node cache) and which lineage node it is. Types (the
``type:`` of catalog.yml): ``memory``, ``parquet``, ``csv``, ``json``, ``dataset`` (a
versioned mloop dataset), ``training_set`` (features from the feature store) and
``model`` (a registered model).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mloop.core.config import get_settings
from mloop.core.errors import InvalidInput, NotFound
from mloop.core.hashing import sha256_file
from mloop.core.ids import new_id
from mloop.data import get_version, load, register
from mloop.features import FeatureStore
from mloop.registry import load_model, log_model, resolve_uri, set_alias
from mloop.store.lineage import Node

__all__ = [
    "CSVDataset",
    "CatalogEntry",
    "JSONDataset",
    "MemoryDataset",
    "MloopDataset",
    "ModelDataset",
    "ParquetDataset",
    "TrainingSetDataset",
]

_hash_memo: dict[tuple[str, int, int], str] = {}


class CatalogEntry:
    """Base of catalog entries. Subclasses implement ``load`` and usually ``save``."""

    type: ClassVar[str] = "entry"
    persistent: ClassVar[bool] = True  # False for memory: values live only during a run
    name: str = ""  # set by the catalog

    def load(self) -> Any:
        raise NotImplementedError

    def save(self, data: Any) -> None:
        raise InvalidInput(
            f"catalog entry {self.name!r} ({self.type}) is read-only; write the node's output "
            "to another entry."
        )

    def exists(self) -> bool:
        return True

    def fingerprint(self) -> str | None:
        """A content hash of what :meth:`load` returns, or None when only loading tells."""
        return None

    def lineage_node(self) -> Node | None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"type": self.type}

    def _where(self) -> str:
        return f"catalog entry {self.name!r} ({self.type})"


@dataclass
class MemoryDataset(CatalogEntry):
    """A value held in memory for the length of a run (the default for unnamed datasets)."""

    data: Any = field(default=None, repr=False)
    type: ClassVar[str] = "memory"
    persistent: ClassVar[bool] = False
    _set: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self._set = self.data is not None

    def load(self) -> Any:
        if not self._set:
            raise NotFound(
                f"{self._where()} holds no value: no node has written it yet. Give it data "
                "in the catalog or run the node that produces it."
            )
        return self.data

    def save(self, data: Any) -> None:
        self.data = data
        self._set = True

    def release(self) -> None:
        self.data = None
        self._set = False

    def exists(self) -> bool:
        return self._set


@dataclass
class _FileDataset(CatalogEntry):
    path: str = ""
    load_args: dict[str, Any] = field(default_factory=dict)
    save_args: dict[str, Any] = field(default_factory=dict)

    def _resolved(self) -> Path:
        path = Path(self.path).expanduser()
        return path if path.is_absolute() else get_settings().root / path

    def _existing(self) -> Path:
        path = self._resolved()
        if not path.is_file():
            raise NotFound(
                f"{self._where()}: file {path} does not exist. Fix 'path' in the catalog, create "
                "the file, or run the node that writes it."
            )
        return path

    def exists(self) -> bool:
        return self._resolved().is_file()

    def fingerprint(self) -> str | None:
        path = self._existing()
        stat = path.stat()
        memo = (str(path), stat.st_mtime_ns, stat.st_size)
        digest = _hash_memo.get(memo)
        if digest is None:
            digest = _hash_memo[memo] = sha256_file(path)
        return digest

    def lineage_node(self) -> Node | None:
        return Node("external", f"file:{self._resolved()}")

    def _target(self) -> Path:
        path = self._resolved()
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def describe(self) -> dict[str, Any]:
        return {"type": self.type, "path": self.path}


@dataclass
class ParquetDataset(_FileDataset):
    """A Parquet file (a pandas DataFrame)."""

    type: ClassVar[str] = "parquet"

    def load(self) -> Any:
        import pandas as pd

        return pd.read_parquet(self._existing(), **self.load_args)

    def save(self, data: Any) -> None:
        _require_frame(self, data)
        tmp = _tmp(self._target())
        data.to_parquet(tmp, **{"index": False, **self.save_args})
        os.replace(tmp, self._resolved())


@dataclass
class CSVDataset(_FileDataset):
    """A CSV file (a pandas DataFrame)."""

    type: ClassVar[str] = "csv"

    def load(self) -> Any:
        import pandas as pd

        return pd.read_csv(self._existing(), **self.load_args)

    def save(self, data: Any) -> None:
        _require_frame(self, data)
        tmp = _tmp(self._target())
        data.to_csv(tmp, **{"index": False, **self.save_args})
        os.replace(tmp, self._resolved())


@dataclass
class JSONDataset(_FileDataset):
    """A JSON document (any JSON value)."""

    type: ClassVar[str] = "json"

    def load(self) -> Any:
        path = self._existing()
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"{self._where()}: {path} is not valid JSON ({exc.msg} at line {exc.lineno})."
            ) from None

    def save(self, data: Any) -> None:
        tmp = _tmp(self._target())
        tmp.write_text(json.dumps(data, indent=2, default=str, **self.save_args))
        os.replace(tmp, self._resolved())


@dataclass
class MloopDataset(CatalogEntry):
    """A versioned mloop dataset: loads ``name@version`` (latest when None); saving registers a version."""

    dataset: str = ""
    version: int | None = None
    columns: list[str] | None = None
    type: ClassVar[str] = "dataset"

    def _ref(self) -> str:
        return f"{self.dataset}@{self.version}" if self.version else self.dataset

    def _version(self) -> Any:
        return get_version(self._ref())

    def load(self) -> Any:
        return load(self._version(), columns=self.columns)

    def save(self, data: Any) -> None:
        if self.version is not None:
            raise InvalidInput(
                f"{self._where()} pins version {self.version}; a pinned version is read-only. "
                "Remove 'version' to write new versions."
            )
        register(self.dataset, data)

    def exists(self) -> bool:
        try:
            self._version()
        except NotFound:
            return False
        return True

    def fingerprint(self) -> str | None:
        digest = str(self._version().sha256)
        return digest if not self.columns else f"{digest}:{','.join(self.columns)}"

    def lineage_node(self) -> Node | None:
        node: Node = self._version().lineage_node()
        return node

    def describe(self) -> dict[str, Any]:
        return {"type": self.type, "dataset": self._ref()}


@dataclass
class TrainingSetDataset(CatalogEntry):
    """Point-in-time features from the feature store for the rows of an entity dataset.

    ``entities`` is an mloop dataset reference (``flights@2``) or a file path.
    """

    entities: str = ""
    features: list[str] | None = None
    service: str | None = None
    timestamp: str | None = None
    type: ClassVar[str] = "training_set"

    def load(self) -> Any:
        store = FeatureStore()
        try:
            return store.get_training_set(
                self._entity_frame(),
                self.features,
                service=self.service,
                timestamp=self.timestamp,
            )
        finally:
            store.close()

    def _entity_frame(self) -> Any:
        path = Path(self.entities)
        if path.suffix in (".parquet", ".csv"):
            entry: CatalogEntry = (ParquetDataset if path.suffix == ".parquet" else CSVDataset)(
                path=self.entities
            )
            entry.name = self.name
            return entry.load()

        return load(self.entities)

    def describe(self) -> dict[str, Any]:
        return {"type": self.type, "entities": self.entities, "features": self.features}


@dataclass
class ModelDataset(CatalogEntry):
    """A registered model: loads ``models:/name@alias`` (or a version); saving registers one."""

    model: str = ""
    alias: str | None = None
    version: int | None = None
    type: ClassVar[str] = "model"

    def _uri(self) -> str:
        if self.alias:
            return f"models:/{self.model}@{self.alias}"
        if self.version:
            return f"models:/{self.model}/{self.version}"
        return f"models:/{self.model}/latest"

    def load(self) -> Any:
        return load_model(self._uri())

    def save(self, data: Any) -> None:
        model = getattr(data, "native", data)
        info = log_model(model, "model", registered_model_name=self.model)
        version = info.registered_model_version
        if self.alias and version is not None:
            set_alias(self.model, self.alias, version.version, reason="pipeline output")

    def exists(self) -> bool:
        try:
            resolve_uri(self._uri())
        except NotFound:
            return False
        return True

    def lineage_node(self) -> Node | None:
        _, version = resolve_uri(self._uri())
        return Node("model_version", f"{self.model}/{version.version}") if version else None

    def fingerprint(self) -> str | None:
        source, version = resolve_uri(self._uri())
        return f"model:{self.model}/{version.version if version else ''}:{source}"

    def describe(self) -> dict[str, Any]:
        return {"type": self.type, "model": self._uri()}


def _require_frame(entry: CatalogEntry, data: Any) -> None:
    if not hasattr(data, "to_parquet"):
        raise InvalidInput(
            f"{entry._where()} stores pandas DataFrames, but the node returned "
            f"{type(data).__name__}; return a DataFrame or use a 'json' or 'memory' entry."
        )


def _tmp(path: Path) -> Path:
    return path.with_name(f"{path.name}.tmp-{new_id()[:8]}")
