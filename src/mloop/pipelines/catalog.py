"""DataCatalog: the named datasets a pipeline reads and writes, and where they live.

>>> catalog = DataCatalog({
...     "flights": MloopDataset(dataset="flights"),
...     "report": JSONDataset(path="reports/metrics.json"),
... })
>>> catalog = DataCatalog.from_config(yaml.safe_load(open("conf/base/catalog.yml")))

In ``conf/<env>/catalog.yml`` each entry has a ``type`` (memory, parquet, csv, json,
dataset, training_set, model) and that type's fields::

    flights:
      type: dataset
      dataset: flights
    clean_flights:
      type: parquet
      path: data/clean_flights.parquet

A dataset that no entry names is kept in memory for the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError, InvalidInput, NotFound, did_you_mean
from mloop.pipelines.catalog_entries import (
    CatalogEntry,
    CSVDataset,
    JSONDataset,
    MemoryDataset,
    MloopDataset,
    ModelDataset,
    ParquetDataset,
    TrainingSetDataset,
)
from mloop.pipelines.params import env_folders, read_yaml

__all__ = ["ENTRY_TYPES", "DataCatalog", "load_catalog"]

ENTRY_TYPES: dict[str, type[CatalogEntry]] = {
    "memory": MemoryDataset,
    "parquet": ParquetDataset,
    "csv": CSVDataset,
    "json": JSONDataset,
    "dataset": MloopDataset,
    "training_set": TrainingSetDataset,
    "model": ModelDataset,
}


class DataCatalog:
    """Named catalog entries; values (DataFrames, dicts...) are wrapped as memory entries."""

    def __init__(self, entries: Mapping[str, Any] | None = None) -> None:
        self._entries: dict[str, CatalogEntry] = {}
        for name, value in (entries or {}).items():
            self.add(name, value)

    def add(self, name: str, entry: Any, replace: bool = True) -> CatalogEntry:
        """Add ``entry`` (a catalog entry, or any value to hold in memory) under ``name``.

        Raises:
            InvalidInput: ``replace`` is false and ``name`` is taken.
        """
        if not isinstance(entry, CatalogEntry):
            entry = MemoryDataset(data=entry)
        if not replace and name in self._entries:
            raise InvalidInput(f"catalog entry {name!r} already exists.")
        entry.name = name
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> CatalogEntry:
        """The entry of ``name``.

        Raises:
            NotFound: no entry has this name (the message suggests the nearest).
        """
        entry = self._entries.get(name)
        if entry is None:
            raise NotFound(
                f"catalog entry {name!r} does not exist."
                + did_you_mean(name, self._entries)
                + f" Entries: {', '.join(sorted(self._entries)) or '(none)'}."
            )
        return entry

    def get_or_memory(self, name: str) -> CatalogEntry:
        """The entry of ``name``, adding an empty memory entry when there is none."""
        entry = self._entries.get(name)
        return entry if entry is not None else self.add(name, MemoryDataset())

    def load(self, name: str) -> Any:
        """The data of entry ``name``.

        Raises:
            NotFound: no entry has this name, or it holds no data yet.
            InvalidInput: the stored data does not parse (JSON, CSV...).
        """
        return self.get(name).load()

    def save(self, name: str, data: Any) -> None:
        """Save ``data`` as entry ``name`` (an entry missing from the catalog is kept in memory).

        Raises:
            InvalidInput: the entry is read-only (a pinned dataset version, a training set),
                or a Parquet or CSV entry is given something other than a DataFrame.
        """
        self.get_or_memory(name).save(data)

    def exists(self, name: str) -> bool:
        """Whether entry ``name`` exists and holds data."""
        entry = self._entries.get(name)
        return entry is not None and entry.exists()

    def release(self, name: str) -> None:
        """Drop a memory value (after its last reader)."""
        entry = self._entries.get(name)
        if isinstance(entry, MemoryDataset):
            entry.release()

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)

    def shallow_copy(self) -> DataCatalog:
        """A catalog with the same persistent entries and fresh copies of memory entries."""
        copy = DataCatalog()
        for name, entry in self._entries.items():
            if isinstance(entry, MemoryDataset):
                fresh = MemoryDataset(data=entry.data)
                fresh._set = entry._set
                copy.add(name, fresh)
            else:
                copy._entries[name] = entry
        return copy

    def describe(self) -> dict[str, dict[str, Any]]:
        return {name: entry.describe() for name, entry in self._entries.items()}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], source: str = "catalog") -> DataCatalog:
        """Build a catalog from ``{name: {"type": ..., field: value}}`` (catalog.yml).

        Raises:
            ConfigError: an entry has no or an unknown ``type``, or a field its type lacks.
        """
        catalog = cls()
        for name, spec in config.items():
            catalog.add(str(name), entry_from_config(str(name), spec, source))
        return catalog

    def __repr__(self) -> str:
        return f"DataCatalog({', '.join(self._entries)})"


def entry_from_config(name: str, spec: Any, source: str = "catalog") -> CatalogEntry:
    where = f"{source}: entry {name!r}"
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise ConfigError(
            f"{where} needs a 'type' ({', '.join(ENTRY_TYPES)}), e.g. {{type: parquet, path: "
            "data/x.parquet}."
        )
    kind = str(spec["type"])
    cls = ENTRY_TYPES.get(kind)
    if cls is None:
        raise ConfigError(
            f"{where} has type {kind!r}, which is unknown."
            + did_you_mean(kind, ENTRY_TYPES)
            + f" Types: {', '.join(ENTRY_TYPES)}."
        )
    fields = {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}  # type: ignore[arg-type]
    args = {k: v for k, v in spec.items() if k != "type"}
    unknown = [k for k in args if k not in fields]
    if unknown:
        raise ConfigError(
            f"{where} ({kind}) has no field {unknown[0]!r}."
            + did_you_mean(unknown[0], fields)
            + f" Fields of {kind}: {', '.join(sorted(fields))}."
        )
    entry = cls(**args)
    entry.name = name
    return entry


def load_catalog(root: Path | None = None, env: str | None = None) -> DataCatalog:
    """The catalog of the project at ``root``: ``conf/base/catalog.yml`` then ``conf/<env>/``.

    Raises:
        ConfigError: a catalog file is not valid YAML or an entry is malformed.
    """
    root = root or get_settings().root
    config: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for folder in env_folders(root, env):
        for path in sorted(folder.glob("catalog*.yml")) + sorted(folder.glob("catalog*.yaml")):
            for name, spec in read_yaml(path).items():
                config[name] = spec
                sources[name] = str(path)
    catalog = DataCatalog()
    for name, spec in config.items():
        catalog.add(name, entry_from_config(name, spec, sources[name]))
    return catalog
