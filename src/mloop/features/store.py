"""FeatureStore: apply definitions, build training sets, materialize, serve online.

>>> store = fs.FeatureStore()                      # stores from the configuration
>>> store.apply([origin, weather])
>>> train = store.get_training_set(flights, features=["weather:temp", "weather:pressure_change_3h"])
>>> store.materialize(start, end)
>>> store.push("weather", latest_rows)             # rows computed on a stream
>>> store.get_online_features([{"origin": "JFK"}], features=["weather:temp"]).to_dict()
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mloop.core.config import get_settings
from mloop.features import plan as planning
from mloop.features import registry
from mloop.features.apply import apply_definitions
from mloop.features.definitions import Definition, Definitions, kind_of
from mloop.features.materialize_run import list_materializations, run_materialization
from mloop.features.online import open_online_store
from mloop.features.online_read import read_online
from mloop.features.push import push_rows
from mloop.features.training import build_training_set
from mloop.features.training_set import load as load_training_set
from mloop.store import get_artifacts, get_store

if TYPE_CHECKING:
    import pandas as pd

    from mloop.features.materialize_run import MaterializationRecord
    from mloop.features.online import OnlineStore
    from mloop.features.online_read import OnlineResponse
    from mloop.features.registry import Applied
    from mloop.features.training_set import TrainingSet
    from mloop.store.artifacts import ArtifactStore
    from mloop.store.db import MetadataStore

__all__ = ["Definition", "FeatureStore", "kind_of"]


class FeatureStore:
    """The feature store of a configuration (metadata store, artifact store, online store).

    A facade: the definitions in force live in a ``Definitions`` cache, and each
    operation is a function of its own module that receives what it needs.
    """

    def __init__(
        self,
        metadata: MetadataStore | None = None,
        artifacts: ArtifactStore | None = None,
        online: OnlineStore | str | None = None,
    ) -> None:
        self._metadata = metadata
        self._artifacts = artifacts
        self._online = online
        self._definitions = Definitions(lambda: self.metadata)

    # -- the stores ------------------------------------------------------------------------

    @property
    def metadata(self) -> MetadataStore:
        if self._metadata is None:
            self._metadata = get_store()
        return self._metadata

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            self._artifacts = get_artifacts()
        return self._artifacts

    @property
    def online(self) -> OnlineStore:
        if self._online is None or isinstance(self._online, str):
            url = get_settings().online_url if self._online is None else self._online
            self._online = open_online_store(url)
        return self._online

    # -- definitions -----------------------------------------------------------------------

    def apply(self, objects: Iterable[Definition]) -> list[Applied]:
        """Validate and store definitions; a changed definition becomes a new version.

        Raises:
            InvalidInput: a definition is inconsistent with its source (a missing column, a
                type that differs from the declared one, an expression DuckDB rejects).
        """
        with self._definitions.lock:
            applied = apply_definitions(
                self._definitions, self.metadata, self.artifacts, list(objects)
            )
            self._definitions.refresh()
        return applied

    def refresh(self) -> None:
        """Forget cached definitions (they are re-read from the metadata store on next use)."""
        self._definitions.refresh()

    def get_definition(self, kind: str, name: str) -> Any:
        """The definition in force of ``kind`` (entity, feature_view, on_demand_view, feature_service).

        Raises:
            NotFound: no definition of that kind and name is applied.
        """
        return self._definitions.get(kind, name)

    def list_definitions(self, kind: str | None = None) -> list[registry.StoredDefinition]:
        """The definitions in force (optionally of one kind)."""
        return self._definitions.heads(kind)

    def plan(
        self, features: Sequence[str] | None, service: str | None, full_names: bool
    ) -> planning.Plan:
        """Resolve requested features (cached per request shape)."""
        return self._definitions.plan(features, service, full_names)

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
        plan = self.plan(features, service, full_names)
        return build_training_set(self.metadata, self.artifacts, entity_df, plan, timestamp, save)

    def training_set(self, training_set_id: str) -> TrainingSet:
        """The stored record of a training set."""
        return load_training_set(self.metadata, training_set_id)

    # -- online ----------------------------------------------------------------------------

    def materialize(
        self, start: datetime | None, end: datetime, views: Sequence[str] | None = None
    ) -> list[MaterializationRecord]:
        """Copy each entity's latest row with ``start <= event time < end`` to the online store.

        Args:
            start: the earliest event time copied (``None``: from the beginning).
            end: the end of the interval, excluded.
            views: the feature views to materialize (default: every applied view).

        Raises:
            InvalidInput: ``start`` or ``end`` is not a datetime, or ``start`` is not before
                ``end``.
            NotFound: a view of ``views`` is not applied.
        """
        return self._materialize(start, end, views, incremental=False)

    def materialize_incremental(
        self, end: datetime | None = None, views: Sequence[str] | None = None
    ) -> list[MaterializationRecord]:
        """Materialize each view from where its last materialization ended up to ``end`` (now)."""
        return self._materialize(None, end, views, incremental=True)

    def materializations(self, view: str | None = None) -> list[MaterializationRecord]:
        """Past materializations, newest first."""
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
        found = self._definitions.find("feature_view", view)
        if found is None:
            self._definitions.get("feature_view", view)  # raises NotFound, naming the nearest
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
        flagged ``EXPIRED``; a missing entity is null and ``NOT_FOUND``.

        Args:
            entity_rows: the join key values of each row.
            features: ``"view:feature"`` references (or ``"view:*"``); or else ``service``.
            service: the name of an applied feature service.
            full_names: name the columns ``view:feature`` instead of ``feature``.
            now: the time the ttl is judged at (default: now).

        Raises:
            InvalidInput: both or neither of ``features`` and ``service``; a malformed or
                repeated reference; ``entity_rows`` of another shape, lacking a join key or
                with columns of different lengths.
            NotFound: a view, feature or service that is not applied.
        """
        return read_online(self.online, entity_rows, self.plan(features, service, full_names), now)

    def _materialize(
        self,
        start: datetime | None,
        end: datetime | None,
        views: Sequence[str] | None,
        incremental: bool,
    ) -> list[MaterializationRecord]:
        return run_materialization(
            self._definitions,
            self.metadata,
            self.artifacts,
            self.online,
            start,
            end,
            views,
            incremental,
        )

    def close(self) -> None:
        if self._online is not None and not isinstance(self._online, str):
            self._online.close()

    def __repr__(self) -> str:
        return f"FeatureStore(metadata={self.metadata!r}, artifacts={self.artifacts!r})"
