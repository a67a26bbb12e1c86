"""The state of one pipeline run in the driver: content hashes, cache keys, tasks, lineage.

:class:`RunState` resolves where each input comes from (parameters, the catalog, a node
of this run, or the cache for nodes outside a partial run), computes each node's cache
key, builds the :class:`~mloop.pipelines.execute.Task` a runner executes, releases memory
values after their last reader, and collects the lineage edges of the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mloop.core.errors import MloopError, NotFound, did_you_mean
from mloop.pipelines import cache as node_cache
from mloop.pipelines.catalog import DataCatalog
from mloop.pipelines.catalog_entries import CatalogEntry, MemoryDataset
from mloop.pipelines.execute import CACHE, ENTRY, VALUE, Task
from mloop.pipelines.fingerprint import code_fingerprint
from mloop.pipelines.node import ALL_PARAMS, PARAMS_PREFIX, Node
from mloop.pipelines.params import lookup
from mloop.pipelines.pipeline import Pipeline, is_param
from mloop.store.lineage import Node as Vertex

__all__ = ["RunState", "cache_entry"]


class RunState:
    """The state of one pipeline run in the driver."""

    def __init__(
        self,
        full: Pipeline,
        selected: Pipeline,
        catalog: DataCatalog,
        params: Mapping[str, Any],
        name: str,
        use_cache: bool,
        track: bool,
    ) -> None:
        self.full = full
        self.selected = selected
        self.catalog = catalog
        self.params = params
        self.name = name
        self.use_cache = use_cache
        self.track = track
        self.in_run = {n.name for n in selected.nodes}
        self.hashes: dict[str, str] = {}
        self.values: dict[str, Any] = {}  # memory values produced or loaded in this run
        self.cached: dict[str, node_cache.CachedOutput] = {}
        self.keys: dict[str, str] = {}
        self.fingerprints: dict[int, str] = {}
        self.cache_rows: list[dict[str, Any]] = []
        self.known_entries: dict[str, dict[str, node_cache.CachedOutput]] | None = None
        self.other_keys: set[str] | None = None  # keys of other pipelines (None: too many)
        self.edges: list[Any] = []
        self.readers = dict.fromkeys(selected.datasets(), 0)
        for item in selected.nodes:
            for dataset in item.inputs:
                self.readers[dataset] += 1
        self.free_outputs = selected.outputs()

    # -- values and hashes -----------------------------------------------------------------

    def param(self, name: str) -> Any:
        return (
            dict(self.params)
            if name == ALL_PARAMS
            else lookup(self.params, name[len(PARAMS_PREFIX) :])
        )

    def entry(self, name: str) -> CatalogEntry | None:
        entry = self.catalog.get(name) if name in self.catalog else None
        if isinstance(entry, MemoryDataset) and not entry.exists():
            return None
        return entry

    def input_hash(self, name: str, reader: Node) -> str:
        """The content hash of a dataset, resolving it from params, catalog or cache."""
        known = self.hashes.get(name)
        if known is not None:
            return known
        if is_param(name):
            digest = node_cache.params_hash(self.param(name))
        else:
            producer = self.full.producer(name)
            entry = self.entry(name)
            if entry is not None and (producer is None or producer.name not in self.in_run):
                if isinstance(entry, MemoryDataset):
                    digest = node_cache.hash_value(entry.load())
                else:
                    found = entry.fingerprint()
                    if found is None:
                        self.values[name] = entry.load()
                        found = node_cache.hash_value(self.values[name])
                    digest = found
            elif producer is not None and producer.name not in self.in_run:
                digest = self._from_cache(name, producer, reader)
            else:
                raise self._missing(name, reader)
        self.hashes[name] = digest
        return digest

    def validate(self) -> None:
        """Check before running that every input has a source (params, catalog or a node)."""
        for item in self.selected.nodes:
            for name in item.inputs:
                if is_param(name):
                    self.param(name)
                    continue
                producer = self.full.producer(name)
                if producer is not None and producer.name in self.in_run:
                    continue
                entry = self.catalog.get(name) if name in self.catalog else None
                if entry is not None and entry.persistent and producer is None:
                    if not entry.exists():
                        entry.fingerprint()  # raises NotFound naming the missing file or dataset
                elif (entry is None or not entry.exists()) and producer is None:
                    raise self._missing(name, item)

    def _from_cache(self, name: str, producer: Node, reader: Node) -> str:
        key = self.key(producer)
        hit = cache_entry(self, key)
        if hit is None or name not in hit:
            raise NotFound(
                f"node {reader.name!r} reads {name!r}, written by node {producer.name!r}, which "
                "is not part of this partial run, and no stored output matches its current "
                f"code and inputs. Run node {producer.name!r} too (widen --from-nodes), or "
                f"store {name!r} in the catalog."
            )
        for output, stored in hit.items():
            self.cached[output] = stored
            self.hashes[output] = stored.sha256
        return hit[name].sha256

    def _missing(self, name: str, reader: Node) -> NotFound:
        known = (set(self.catalog) | self.full.datasets()) - {name}
        return NotFound(
            f"node {reader.name!r} reads {name!r}, but no node writes it and the catalog has no "
            f"entry for it."
            + did_you_mean(name, known)
            + " Add it to the catalog (conf/base/catalog.yml) or fix the node's inputs."
        )

    def key(self, item: Node) -> str:
        found = self.keys.get(item.name)
        if found is None:
            code = self.fingerprints.get(id(item.func))
            if code is None:
                code = self.fingerprints[id(item.func)] = code_fingerprint(item.func)
            inputs = [(i, self.input_hash(i, item)) for i in item.inputs]
            found = self.keys[item.name] = node_cache.cache_key(code, inputs, item.outputs)
        return found

    # -- tasks ---------------------------------------------------------------------------

    def task(self, item: Node, parent_run_id: str | None, experiment_id: str | None) -> Task:
        inputs: list[tuple[str, str, Any]] = []
        params: dict[str, Any] = {}
        for name in item.inputs:
            if is_param(name):
                value = self.param(name)
                params[name[len(PARAMS_PREFIX) :] if name != ALL_PARAMS else ALL_PARAMS] = value
                inputs.append((name, VALUE, value))
            elif name in self.values:
                inputs.append((name, VALUE, self.values[name]))
            elif name in self.cached:
                inputs.append((name, CACHE, self.cached[name].artifact))
            elif name not in self.catalog and self.full.producer(name) is not None:
                self.input_hash(name, item)  # an output of a node outside this partial run
                inputs.append((name, CACHE, self.cached[name].artifact))
            else:
                entry = self.catalog.get(name)
                inputs.append(
                    (name, VALUE, entry.load())
                    if isinstance(entry, MemoryDataset)
                    else (name, ENTRY, entry)
                )
        saves = {o: e for o in item.outputs if (e := self.entry_for_output(o)) is not None}
        returns = {o for o in item.outputs if self.readers.get(o, 0) > 0 or o in self.free_outputs}
        return Task(
            node=item,
            inputs=inputs,
            saves=saves,
            returns=returns,
            pipeline=self.name,
            parent_run_id=parent_run_id,
            experiment_id=experiment_id,
            track=self.track,
            cache=self.use_cache,
            params=params,
        )

    def entry_for_output(self, name: str) -> CatalogEntry | None:
        entry = self.catalog.get(name) if name in self.catalog else None
        return None if entry is None or not entry.persistent else entry

    def consumed(self, item: Node) -> None:
        """Release memory values whose last reader has finished."""
        for name in item.inputs:
            self.readers[name] -= 1
            if self.readers[name] == 0 and name not in self.free_outputs:
                self.values.pop(name, None)
                self.catalog.release(name)

    def lineage(self, item: Node, run_id: str | None, parent_run_id: str | None) -> None:
        if not self.track or run_id is None:
            return

        child = Vertex("run", run_id)
        if parent_run_id:
            self.edges.append(
                (Vertex("pipeline_run", parent_run_id), "contains", child, {"node": item.name})
            )
        ins = [v for i in item.inputs if not is_param(i) and (v := self.vertex(i)) is not None]
        outs = [v for o in item.outputs if (v := self.vertex(o)) is not None]
        for source in ins:
            self.edges.append((source, "input_of", child, {"node": item.name}))
        for target in outs:
            self.edges.append((child, "produced", target, {"node": item.name}))
            for source in ins:
                self.edges.append(
                    (source, "derived", target, {"node": item.name, "run_id": run_id})
                )

    def vertex(self, name: str) -> Any:
        entry = self.catalog.get(name) if name in self.catalog else None
        if entry is not None and entry.persistent:
            try:
                found = entry.lineage_node()
            except MloopError:
                found = None
            if found is not None:
                return found
        if name in self.cached:
            return Vertex("artifact", self.cached[name].artifact)
        digest = self.hashes.get(name)
        return Vertex("external", f"value:{name}@{digest[:16]}") if digest else None


def cache_entry(state: RunState, key: str) -> dict[str, node_cache.CachedOutput] | None:
    """A validly signed cache entry: from the pipeline's entries read once per run, else by
    key (nodes shared with other pipelines). Unsigned or tampered entries are refused."""
    if state.known_entries is None:
        state.known_entries = node_cache.entries_of(state.name)
        state.other_keys = node_cache.keys_of_others(state.name)
    found = state.known_entries.get(key)
    if found is None:
        if state.other_keys is not None and key not in state.other_keys:
            return None  # no pipeline has it: no query per node on a cold run
        found = node_cache.lookup([key]).get(key)
    return node_cache.verified(key, found)
