"""``store.apply``: validate definitions against their sources and store their versions.

A feature view is checked by compiling its query and asking DuckDB for the result's
types: missing columns, bad expressions and types that differ from the declared ones are
reported here, not at training time. Lineage: source --source_of--> view version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, did_you_mean
from mloop.core.principal import current_actor
from mloop.features import dtypes, registry
from mloop.features.definitions import kind_of
from mloop.features.feature_view import FeatureView
from mloop.features.ingest import source_schema
from mloop.features.offline import connect
from mloop.features.plan import split_ref
from mloop.features.service import FeatureService
from mloop.features.training_set import view_node_id
from mloop.features.view_sql import compile_view
from mloop.store import audit, lineage
from mloop.store.lineage import Node

if TYPE_CHECKING:
    import duckdb

    from mloop.features.definitions import Definitions
    from mloop.features.registry import Applied
    from mloop.store.artifacts import ArtifactStore
    from mloop.store.db import MetadataStore

_ORDER = ("entity", "feature_view", "on_demand_view", "feature_service")


def apply_definitions(
    definitions: Definitions,
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    objects: list[Any],
) -> list[Applied]:

    named: dict[tuple[str, str], Any] = {}
    for obj in objects:
        key = (kind_of(obj), obj.name)
        if key in named and named[key] is not obj:
            raise InvalidInput(
                f"two different {key[0].replace('_', ' ')}s are named '{obj.name}'; rename one."
            )
        named[key] = obj
    entities = {name: obj for (kind, name), obj in named.items() if kind == "entity"}
    con = connect()
    try:
        for key, obj in list(named.items()):
            if key[0] == "feature_view":
                named[key] = _resolve_view(artifacts, con, obj)
                entities.setdefault(obj.entity.name, obj.entity)
    finally:
        con.close()
    for name, entity in entities.items():
        if ("entity", name) in named and named[("entity", name)] != entity:
            raise InvalidInput(
                f"entity '{name}' is defined twice with different join keys; keep one definition."
            )
        named[("entity", name)] = entity

    def lookup(view_name: str) -> Any:
        for kind in ("feature_view", "on_demand_view"):
            if (kind, view_name) in named:
                return named[(kind, view_name)]
            found = definitions.find(kind, view_name)
            if found is not None:
                return found[0]
        return None

    for (kind, _), obj in named.items():
        if kind == "on_demand_view":
            _check_refs(f"on-demand view '{obj.name}'", obj.inputs, lookup)
        elif kind == "feature_service":
            named[(kind, obj.name)] = FeatureService(
                obj.name,
                features=_check_refs(f"feature service '{obj.name}'", obj.features, lookup),
                description=obj.description,
            )
    actor = current_actor()
    ordered = sorted(named.items(), key=lambda item: (_ORDER.index(item[0][0]), item[0][1]))

    def write(conn: Any) -> list[Applied]:
        results = []
        for (kind, name), obj in ordered:
            applied = registry.put(conn, metadata, kind, name, obj.to_dict(), actor)
            if applied.changed:
                audit.record(
                    conn,
                    actor=actor,
                    action="features.apply",
                    object_kind=kind,
                    object_id=name,
                    to_value=applied.version,
                    details={"hash": applied.hash},
                )
            results.append(applied)
        return results

    results = metadata.transaction(write)
    for ((kind, name), obj), applied in zip(ordered, results, strict=True):
        definitions.remember(kind, name, applied.hash, obj)
    _lineage(
        metadata,
        [
            (obj, applied)
            for ((kind, _), obj), applied in zip(ordered, results, strict=True)
            if kind == "feature_view"
        ],
    )
    return results


def _resolve_view(
    artifacts: ArtifactStore, con: duckdb.DuckDBPyConnection, view: FeatureView
) -> FeatureView:
    import duckdb

    source = view.source.resolve(artifacts)
    pinned = FeatureView.from_dict({**view.to_dict(), "source": source.to_dict()})
    relation, schema = source_schema(con, pinned, artifacts)
    columns = list(schema)
    where = f"feature view '{view.name}'"
    for key in view.entity.join_keys:
        if key not in schema:
            raise InvalidInput(
                f"{where}: its source has no join key column '{key}'." + did_you_mean(key, columns)
            )
    for role, column in (
        ("timestamp", view.timestamp),
        ("created_timestamp", view.created_timestamp),
    ):
        if column is None:
            continue
        if column not in schema:
            raise InvalidInput(
                f"{where}: its source has no {role} column '{column}'."
                + did_you_mean(column, columns)
            )
        if dtypes.from_duckdb(schema[column]) not in (dtypes.TIMESTAMP, dtypes.DATE):
            raise InvalidInput(
                f"{where}: {role} column '{column}' is {schema[column]}, not a timestamp; convert it "
                "(pd.to_datetime(df[col], utc=True)) before using it as event time."
            )
    outputs = {t.name for t in view.transforms}
    clash = sorted(outputs & set(schema))
    if clash:
        raise InvalidInput(
            f"{where}: transformations {clash} would overwrite source columns; rename them."
        )
    for feature in view.features if view._declared is not None else ():
        if feature.name not in schema and feature.name not in outputs:
            hint = did_you_mean(feature.name, [*columns, *outputs])
            raise InvalidInput(
                f"{where}: feature '{feature.name}' is neither a source column nor a transformation.{hint}"
            )
    full = FeatureView.from_dict({**pinned.to_dict(), "source_schema": schema})
    try:
        query = compile_view(full, relation, schema)
        result = {row[0]: row[1] for row in con.execute(f"DESCRIBE {query}").fetchall()}
    except duckdb.Error as exc:
        raise InvalidInput(
            f"{where}: its transformations do not run on the source: {str(exc).splitlines()[0]}"
        ) from None
    types = {name: dtypes.from_duckdb(result[name]) for name in full.feature_names}
    for feature in full.features:
        if feature.dtype and not dtypes.compatible(feature.dtype, types[feature.name]):
            raise InvalidInput(
                f"{where}: feature '{feature.name}' is declared {feature.dtype} but the source gives "
                f"{types[feature.name]} ({result[feature.name]}); fix the declaration or the data."
            )
    used = set(view.reserved) | {f.name for f in full.features if f.name in schema}
    for transform in view.transforms:
        used |= set(transform.inputs(columns))
    return full.with_schema(source, {c: t for c, t in schema.items() if c in used}, types)


def _check_refs(where: str, refs: Any, lookup: Any) -> list[str]:
    expanded: list[str] = []
    for ref in refs:
        view_name, feature = split_ref(ref)
        definition = lookup(view_name)
        if definition is None:
            raise InvalidInput(
                f"{where}: feature view '{view_name}' is neither applied nor in this apply."
            )
        names = definition.feature_names
        if feature == "*":
            expanded += [f"{view_name}:{f}" for f in names]
        elif feature not in names:
            raise InvalidInput(
                f"{where}: view '{view_name}' has no feature '{feature}'."
                + did_you_mean(feature, names)
            )
        else:
            expanded.append(ref)
    return expanded


def _lineage(metadata: MetadataStore, views: list[tuple[FeatureView, Applied]]) -> None:
    edges: list[tuple[Node, str, Node, dict[str, Any] | None]] = []
    for view, applied in views:
        target = Node("feature_view_version", view_node_id(view.name, applied.version))
        edges.append((view.source.lineage_node(), "source_of", target, None))
    lineage.add_edges(metadata, edges)
