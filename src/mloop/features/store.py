"""FeatureStore: apply definitions, build training sets, materialize, serve online.

>>> store = fs.FeatureStore()                      # stores from the configuration
>>> store.apply([origin, weather])
>>> train = store.get_training_set(flights, features=["weather:temp", "weather:pressure_change_3h"])
>>> store.materialize(start, end)
>>> store.push("weather", latest_rows)             # rows computed on a stream
>>> store.get_online_features([{"origin": "JFK"}], features=["weather:temp"]).to_dict()
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, NotFound
from mloop.features import plan as planning
from mloop.features.entity import Entity
from mloop.features.feature_view import FeatureView
from mloop.features.on_demand import OnDemandFeatureView
from mloop.features.service import FeatureService

if TYPE_CHECKING:
    import pandas as pd

    from mloop.features import registry
    from mloop.features.materialize_run import MaterializationRecord
    from mloop.features.online import OnlineStore
    from mloop.features.online_read import OnlineResponse
    from mloop.features.registry import Applied
    from mloop.features.training_set import TrainingSet
    from mloop.store.artifacts import ArtifactStore
    from mloop.store.db import MetadataStore

Definition = Entity | FeatureView | OnDemandFeatureView | FeatureService
_KIND = {
    Entity: "entity",
    FeatureView: "feature_view",
    OnDemandFeatureView: "on_demand_view",
    FeatureService: "feature_service",
}


class FeatureStore:
    """The feature store of a configuration (metadata store, artifact store, online store)."""

    def __init__(
        self,
        metadata: MetadataStore | None = None,
        artifacts: ArtifactStore | None = None,
        online: OnlineStore | str | None = None,
    ) -> None:
        self._metadata = metadata
        self._artifacts = artifacts
        self._online = online
        self._lock = threading.RLock()
        self._live: dict[tuple[str, str], tuple[str, Any]] = {}  # (kind, name) -> (hash, object)
        self._cache: dict[tuple[str, str], tuple[Any, int] | None] = {}
        self._plans: dict[Any, planning.Plan] = {}

    # -- the stores ------------------------------------------------------------------------

    @property
    def metadata(self) -> MetadataStore:
        if self._metadata is None:
            from mloop.store import get_store

            self._metadata = get_store()
        return self._metadata

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            from mloop.store import get_artifacts

            self._artifacts = get_artifacts()
        return self._artifacts

    @property
    def online(self) -> OnlineStore:
        if self._online is None or isinstance(self._online, str):
            from mloop.features.online import open_online_store

            if self._online is None:
                from mloop.core.config import get_settings

                self._online = get_settings().online_url
            self._online = open_online_store(self._online)
        return self._online

    # -- definitions -----------------------------------------------------------------------

    def apply(self, objects: Iterable[Definition]) -> list[Applied]:
        """Validate and store definitions; a changed definition becomes a new version.

        Raises:
            InvalidInput: a definition is inconsistent with its source (a missing column, a
                type that differs from the declared one, an expression DuckDB rejects).
        """
        from mloop.features.apply import apply_definitions

        with self._lock:
            applied = apply_definitions(self, list(objects))
            self.refresh()
        return applied

    def refresh(self) -> None:
        """Forget cached definitions (they are re-read from the metadata store on next use)."""
        with self._lock:
            self._cache.clear()
            self._plans.clear()

    def _remember(self, kind: str, name: str, digest: str, obj: Any) -> None:
        self._live[(kind, name)] = (digest, obj)

    def _definition(self, kind: str, name: str) -> tuple[Any, int] | None:
        key = (kind, name)
        if key in self._cache:
            return self._cache[key]
        from mloop.features import registry

        stored = registry.get(self.metadata, kind, name)
        found: tuple[Any, int] | None = None
        if stored is not None:
            live = self._live.get(key)
            if live is not None and live[0] == stored.hash:
                found = (live[1], stored.version)
            else:
                found = (_from_dict(kind, stored.definition), stored.version)
        self._cache[key] = found
        return found

    def get_definition(self, kind: str, name: str) -> Any:
        """The definition in force of ``kind`` (entity, feature_view, on_demand_view, feature_service)."""
        found = self._definition(kind, name)
        if found is None:
            from mloop.features import registry

            names = [d.name for d in registry.heads(self.metadata, kind)]
            from mloop.core.errors import did_you_mean

            raise NotFound(
                f"{kind.replace('_', ' ')} '{name}' is not applied." + did_you_mean(name, names)
            )
        return found[0]

    def list_definitions(self, kind: str | None = None) -> list[registry.StoredDefinition]:
        """The definitions in force (optionally of one kind)."""
        from mloop.features import registry

        return registry.heads(self.metadata, kind)

    def _lookup(self, name: str) -> tuple[planning.Definition, int] | None:
        return self._definition("feature_view", name) or self._definition("on_demand_view", name)

    def _view_names(self) -> list[str]:
        from mloop.features import registry

        return [
            d.name
            for d in registry.heads(self.metadata)
            if d.kind in ("feature_view", "on_demand_view")
        ]

    def plan(
        self, features: Sequence[str] | None, service: str | None, full_names: bool
    ) -> planning.Plan:
        """Resolve requested features (cached per request shape)."""
        key = (tuple(features or ()), service, full_names)
        found = self._plans.get(key)
        if found is None:
            if (features is None) == (service is None):
                raise InvalidInput("pass either features=[...] or service='name' (one of the two).")
            refs = (
                list(features)
                if features is not None
                else list(self._service(service or "").features)
            )
            found = planning.build(refs, self._lookup, self._view_names, full_names)
            self._plans[key] = found
        return found

    def _service(self, name: str) -> FeatureService:
        return self.get_definition("feature_service", name)

    # -- offline ---------------------------------------------------------------------------

    def get_training_set(
        self,
        entity_df: pd.DataFrame,
        features: Sequence[str] | None = None,
        *,
        service: str | None = None,
        timestamp: str | None = None,
        full_names: bool = False,
        save: bool = False,
    ) -> pd.DataFrame:
        """Point-in-time-correct features for every row of ``entity_df``, in its row order.

        The result holds the entity frame's columns, then one column per feature. Each row
        gets, per view, the latest feature row with ``event time <= its timestamp`` (ties:
        the latest created), null when older than the view's ttl or when there is none.
        The record (``df.attrs["training_set"]``) is stored with lineage; ``save=True``
        also writes the frame to the artifact store.

        Raises:
            InvalidInput: the frame lacks a join key or timestamp column, mixes naive and
                aware timestamps, or a source no longer matches its definition's types.
            NotFound: an unknown view or feature (with the nearest name).
        """
        from mloop.features.training import build_training_set

        return build_training_set(
            self, entity_df, self.plan(features, service, full_names), timestamp, save
        )

    def training_set(self, training_set_id: str) -> TrainingSet:
        """The stored record of a training set."""
        from mloop.features.training_set import load

        return load(self.metadata, training_set_id)

    # -- online ----------------------------------------------------------------------------

    def materialize(
        self, start: datetime | None, end: datetime, views: Sequence[str] | None = None
    ) -> list[MaterializationRecord]:
        """Copy each entity's latest row with ``start <= event time < end`` to the online store."""
        from mloop.features.materialize_run import run_materialization

        return run_materialization(self, start, end, views, incremental=False)

    def materialize_incremental(
        self, end: datetime | None = None, views: Sequence[str] | None = None
    ) -> list[MaterializationRecord]:
        """Materialize each view from where its last materialization ended up to ``end`` (now)."""
        from mloop.features.materialize_run import run_materialization

        return run_materialization(self, None, end, views, incremental=True)

    def materializations(self, view: str | None = None) -> list[MaterializationRecord]:
        """Past materializations, newest first."""
        from mloop.features.materialize_run import list_materializations

        return list_materializations(self.metadata, view)

    def push(self, view: str, rows: pd.DataFrame) -> int:
        """Write feature rows computed elsewhere (e.g. a stream's window aggregates) online,
        where materialization puts them; return the rows kept (never a row older than the
        stored one). ``rows`` holds the join keys, the view's timestamp and its features.

        >>> store.push("tx", streams.WindowAggregator(tx).update(events).latest)

        Raises:
            NotFound: ``view`` is not an applied feature view.
            InvalidInput: a key, the timestamp or a feature column is missing.
        """
        from mloop.features.push import push_rows

        found = self._definition("feature_view", view)
        if found is None:
            self.get_definition("feature_view", view)  # raises NotFound, naming the nearest
        assert found is not None
        return push_rows(self.online, found[0], found[1], rows)

    def get_online_features(
        self,
        entity_rows: Any,
        features: Sequence[str] | None = None,
        *,
        service: str | None = None,
        full_names: bool = False,
        now: datetime | None = None,
    ) -> OnlineResponse:
        """The latest materialized values for each entity row (a list of dicts, a dict of
        lists or a DataFrame). A value older than its view's ttl (at ``now``) is null and
        flagged ``EXPIRED``; a missing entity is null and ``NOT_FOUND``."""
        from mloop.features.online_read import read_online

        return read_online(self, entity_rows, self.plan(features, service, full_names), now)

    def close(self) -> None:
        if self._online is not None and not isinstance(self._online, str):
            self._online.close()

    def __repr__(self) -> str:
        return f"FeatureStore(metadata={self.metadata!r}, artifacts={self.artifacts!r})"


def _from_dict(kind: str, data: dict[str, Any]) -> Any:
    if kind == "entity":
        return Entity.from_dict(data)
    if kind == "feature_view":
        return FeatureView.from_dict(data)
    if kind == "on_demand_view":
        return OnDemandFeatureView.from_dict(data)
    return FeatureService.from_dict(data)


def kind_of(obj: Any) -> str:
    for cls, kind in _KIND.items():
        if isinstance(obj, cls):
            return kind
    raise InvalidInput(
        f"{obj!r} is not a feature definition; apply fs.Entity, fs.FeatureView, "
        "fs.OnDemandFeatureView or fs.FeatureService objects."
    )
