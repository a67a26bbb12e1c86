"""FeatureView: features of one entity read from one source, valid from their event time.

>>> weather = FeatureView(
...     "weather", entity=origin, source=weather_df, timestamp="time_hour", ttl="3h",
...     features=["temp", "pressure"], transforms=[delta("pressure", "3h", name="pressure_change_3h")],
... )

``features`` defaults to every source column that is not a join key or a timestamp, plus
every transformation's output. A view without ``timestamp`` is static: one row per key,
valid at all times (e.g. a plane's year and seats).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.features import dtypes
from mloop.features.duration import to_micros
from mloop.features.entity import Entity, check_name
from mloop.features.source import Source, as_source
from mloop.features.transforms import Lag, Transform, WindowAgg
from mloop.features.transforms import from_dict as transform_from_dict


@dataclass(frozen=True)
class Feature:
    """A feature name with an optional declared type (checked at apply and at ingest)."""

    name: str
    dtype: str | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "feature")
        if self.dtype is not None:
            object.__setattr__(
                self, "dtype", dtypes.normalize(self.dtype, f"feature '{self.name}'")
            )


class FeatureView:
    """A named, versioned set of features of one entity (see the module docstring).

    Args:
        name: letters, digits and underscores.
        entity: the entity whose join keys the source rows carry.
        source: a DataFrame, a Parquet path, ``"dataset:name@version"`` or a registered
            dataset version.
        timestamp: the event-time column (none: a static view, valid at all times).
        ttl: how long a row stays valid after its event time (``"3h"``, a timedelta or
            microseconds); none: for ever.
        features: the columns served (default: every column that is not a key or a time,
            plus the transformations' outputs); a :class:`Feature` declares a type.
        transforms: :func:`lag`, :func:`delta`, :func:`window_agg`, :func:`expression`.
        created_timestamp: the column that breaks ties between rows of one event time.
        description: what the view holds.
        tags: free-form labels.
        source_schema: column types, filled in by ``apply``.

    Raises:
        InvalidInput: a name that is not valid, an ``entity`` that is not an Entity, a
            source of another kind, a ttl that does not parse, an item of ``transforms`` that is not a
            transformation, a lag or window on a view without ``timestamp``, two
            transformations of one name.
    """

    def __init__(
        self,
        name: str,
        *,
        entity: Entity,
        source: Any,
        timestamp: str | None = None,
        ttl: str | timedelta | int | None = None,
        features: Sequence[str | Feature] | None = None,
        transforms: Sequence[Transform] = (),
        created_timestamp: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
        source_schema: dict[str, str] | None = None,
    ) -> None:
        self.name = check_name(name, "feature view")
        if not isinstance(entity, Entity):
            raise InvalidInput(
                f"feature view '{name}': entity must be an fs.Entity, not {type(entity).__name__}."
            )
        self.entity = entity
        self.source: Source = as_source(source)
        self.timestamp = timestamp
        self.created_timestamp = created_timestamp
        self.ttl_micros = to_micros(ttl, f"ttl of feature view '{name}'")
        self.transforms = tuple(transforms)
        self.description = description
        self.tags = dict(tags or {})
        self.source_schema = dict(source_schema or {})  # column -> DuckDB type, filled at apply
        for transform in self.transforms:
            if not isinstance(transform, Transform):
                raise InvalidInput(
                    f"feature view '{name}': {transform!r} is not a transformation; use "
                    "fs.expression, fs.lag, fs.delta or fs.window_agg."
                )
            if timestamp is None and isinstance(transform, (Lag, WindowAgg)):
                raise InvalidInput(
                    f"feature view '{name}' has no timestamp, so '{transform.name}' (a lag or window) "
                    "has no time to look back from; give timestamp=."
                )
        names = [t.name for t in self.transforms]
        if len(set(names)) != len(names):
            raise InvalidInput(
                f"feature view '{name}' has two transformations named alike: {names}."
            )
        self._declared: tuple[Feature, ...] | None = (
            None
            if features is None
            else tuple(f if isinstance(f, Feature) else Feature(f) for f in features)
        )

    # -- features ------------------------------------------------------------------------

    @property
    def reserved(self) -> set[str]:
        """Columns that are never features: join keys and timestamps."""
        return {*self.entity.join_keys, *(c for c in (self.timestamp, self.created_timestamp) if c)}

    @property
    def features(self) -> tuple[Feature, ...]:
        """The features, typed once the view is applied."""
        if self._declared is not None:
            return self._declared
        if not self.source_schema:
            return tuple(Feature(t.name) for t in self.transforms)
        columns = [
            c for c in self.source_schema if c not in self.reserved and c != "file_row_number"
        ]
        return tuple(Feature(c) for c in [*columns, *(t.name for t in self.transforms)])

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def with_schema(
        self, source: Source, schema: dict[str, str], types: dict[str, str]
    ) -> FeatureView:
        """A copy pinned to ``source`` with its column types and every feature's type."""
        copy = FeatureView.from_dict(
            {**self.to_dict(), "source": source.to_dict(), "source_schema": schema}
        )
        copy._declared = tuple(Feature(f.name, f.dtype or types[f.name]) for f in copy.features)
        return copy

    # -- (de)serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        declared = self._declared
        return {
            "name": self.name,
            "entity": self.entity.to_dict(),
            "source": self.source.to_dict(),
            "timestamp": self.timestamp,
            "created_timestamp": self.created_timestamp,
            "ttl_micros": self.ttl_micros,
            "features": None if declared is None else [[f.name, f.dtype] for f in declared],
            "transforms": [t.to_dict() for t in self.transforms],
            "source_schema": self.source_schema,
            "description": self.description,
            "tags": self.tags,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureView:
        features = data.get("features")
        return cls(
            data["name"],
            entity=Entity.from_dict(data["entity"]),
            source=Source.from_dict(data["source"]),
            timestamp=data.get("timestamp"),
            ttl=timedelta(microseconds=data["ttl_micros"]) if data.get("ttl_micros") else None,
            features=None if features is None else [Feature(n, t) for n, t in features],
            transforms=[transform_from_dict(t) for t in data.get("transforms", [])],
            created_timestamp=data.get("created_timestamp"),
            description=data.get("description", ""),
            tags=data.get("tags") or {},
            source_schema=data.get("source_schema") or {},
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeatureView) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"FeatureView({self.name!r}, entity={self.entity.name!r}, source={self.source.describe()!r})"
