"""The definitions in force: read from the metadata store, cached per name and per plan.

The one piece of state the feature store's operations share. ``FeatureStore`` owns one
and hands it to ``apply``, ``materialize_run`` and the training-set builder, which need
definitions but not the store (docs/decisions/0171-internal-layers.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.features import plan as planning
from mloop.features import registry
from mloop.features.entity import Entity
from mloop.features.feature_view import FeatureView
from mloop.features.on_demand import OnDemandFeatureView
from mloop.features.service import FeatureService

if TYPE_CHECKING:
    from mloop.store.db import MetadataStore

Definition = Entity | FeatureView | OnDemandFeatureView | FeatureService
_KIND = {
    Entity: "entity",
    FeatureView: "feature_view",
    OnDemandFeatureView: "on_demand_view",
    FeatureService: "feature_service",
}


class Definitions:
    """Definitions read from ``metadata()`` (called on first use), with their versions."""

    def __init__(self, metadata: Callable[[], MetadataStore]) -> None:
        self._metadata = metadata
        self.lock = threading.RLock()
        self._live: dict[tuple[str, str], tuple[str, Any]] = {}  # (kind, name) -> (hash, object)
        self._cache: dict[tuple[str, str], tuple[Any, int] | None] = {}
        self._plans: dict[Any, planning.Plan] = {}

    def refresh(self) -> None:
        """Forget cached definitions (they are re-read from the metadata store on next use)."""
        with self.lock:
            self._cache.clear()
            self._plans.clear()

    def remember(self, kind: str, name: str, digest: str, obj: Any) -> None:
        """Keep the applied object itself, so a later read returns it (not a copy)."""
        self._live[(kind, name)] = (digest, obj)

    def find(self, kind: str, name: str) -> tuple[Any, int] | None:
        """The definition in force and its version, or None."""
        key = (kind, name)
        if key in self._cache:
            return self._cache[key]
        stored = registry.get(self._metadata(), kind, name)
        found: tuple[Any, int] | None = None
        if stored is not None:
            live = self._live.get(key)
            if live is not None and live[0] == stored.hash:
                found = (live[1], stored.version)
            else:
                found = (from_dict(kind, stored.definition), stored.version)
        self._cache[key] = found
        return found

    def get(self, kind: str, name: str) -> Any:
        """The definition in force; NotFound (with the nearest name) when there is none."""
        found = self.find(kind, name)
        if found is None:
            names = [d.name for d in registry.heads(self._metadata(), kind)]
            raise NotFound(
                f"{kind.replace('_', ' ')} '{name}' is not applied." + did_you_mean(name, names)
            )
        return found[0]

    def heads(self, kind: str | None = None) -> list[registry.StoredDefinition]:
        """The stored definitions in force (optionally of one kind)."""
        return registry.heads(self._metadata(), kind)

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
                else list(self.get("feature_service", service or "").features)
            )
            found = planning.build(refs, self._lookup, self._view_names, full_names)
            self._plans[key] = found
        return found

    def _lookup(self, name: str) -> tuple[planning.Definition, int] | None:
        return self.find("feature_view", name) or self.find("on_demand_view", name)

    def _view_names(self) -> list[str]:
        return [d.name for d in self.heads() if d.kind in ("feature_view", "on_demand_view")]


def from_dict(kind: str, data: dict[str, Any]) -> Any:
    """A definition object from its stored dictionary."""
    if kind == "entity":
        return Entity.from_dict(data)
    if kind == "feature_view":
        return FeatureView.from_dict(data)
    if kind == "on_demand_view":
        return OnDemandFeatureView.from_dict(data)
    return FeatureService.from_dict(data)


def kind_of(obj: Any) -> str:
    """The stored kind of a definition object."""
    for cls, kind in _KIND.items():
        if isinstance(obj, cls):
            return kind
    raise InvalidInput(
        f"{obj!r} is not a feature definition; apply fs.Entity, fs.FeatureView, "
        "fs.OnDemandFeatureView or fs.FeatureService objects."
    )
