"""Building a training set: check the entity frame, join every view point-in-time, run
on-demand views, record the result with lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput
from mloop.core.ids import new_id
from mloop.core.principal import current_actor
from mloop.features import dtypes, entity_frame
from mloop.features import training_set as records
from mloop.features.ingest import checked_source, has_unique_times, source_identity
from mloop.features.offline import connect
from mloop.features.plan import on_demand_inputs
from mloop.features.point_in_time import ViewJoin, point_in_time_join
from mloop.features.transforms import Expression

if TYPE_CHECKING:
    import pandas as pd

    from mloop.features.plan import Plan
    from mloop.store.artifacts import ArtifactStore
    from mloop.store.db import MetadataStore

_NUMBER = ("int64", "float64")


def build_training_set(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    entity_df: pd.DataFrame,
    plan: Plan,
    timestamp: str | None,
    save: bool,
) -> pd.DataFrame:
    import pandas as pd

    keys = plan.join_keys
    need_time = any(part.view.timestamp for part in plan.views.values())
    frame = entity_frame.prepare(entity_df, keys, timestamp, need_time)
    for part in plan.views.values():
        _check_entity_frame(part.view, frame)
    missing = [f for f in plan.request_fields if f not in entity_df.columns]
    if missing:
        raise InvalidInput(
            f"the entity frame lacks the request fields {missing} that on-demand views need."
        )
    collide = [o for o in plan.outputs if o in entity_df.columns]
    if collide:
        raise InvalidInput(
            f"feature columns {collide} would collide with entity frame columns; rename or drop those "
            "columns, or pass full_names=True for 'view:feature' columns."
        )
    joined, changed = _join(artifacts, plan, frame, late=True)
    if changed:  # a source changed between the two reads of a late fetch: read it once
        joined, _ = _join(artifacts, plan, frame, late=False)
    values: dict[str, Any] = {name: joined[name] for name in joined.columns}
    for odfv, _ in plan.on_demand:
        request = {name: entity_df[name].reset_index(drop=True) for name in odfv.request}
        inputs = pd.DataFrame(on_demand_inputs(odfv, values, request))
        computed = odfv.compute(inputs)
        for name in odfv.feature_names:
            values[f"{odfv.name}:{name}"] = computed[name].reset_index(drop=True)
    if plan.on_demand:
        features = pd.DataFrame(
            {out: values[ref] for ref, out in zip(plan.refs, plan.outputs, strict=True)}
        )
    else:  # no copy: select and rename the joined columns
        features = joined[list(plan.refs)].set_axis(plan.outputs, axis=1)
    features.index = entity_df.index
    result = pd.concat([entity_df, features], axis=1)
    record = records.TrainingSet(
        id=new_id(),
        features=tuple(plan.refs),
        views=plan.versions,
        num_rows=len(result),
        created_at=now_ms(),
        entity_sha256=records.entity_digest(entity_df),
        entity_columns=tuple(str(c) for c in entity_df.columns),
        timestamp_column=frame.timestamp,
        created_by=current_actor(),
    )
    if save:
        record = _save_frame(artifacts, record, result)
    records.save(metadata, record)
    result.attrs[records.ATTR] = record
    return result


def _join(
    artifacts: ArtifactStore, plan: Plan, frame: entity_frame.EntityFrame, late: bool
) -> tuple[pd.DataFrame, bool]:
    """The point-in-time join of every view, and whether a source read twice changed."""
    con = connect()
    try:
        joins, identities = [], {}
        for part in plan.views.values():
            identity = source_identity(part.view, artifacts)
            fetch_late = late and _fetches_late(part.view, len(part.features), identity)
            if fetch_late:
                identities[part.view.name] = identity
            query, relation = checked_source(con, part.view, artifacts, fetch_late)
            unique = has_unique_times(con, part.view, identity, relation)
            columns = tuple((f, part.column(f)) for f in part.features)
            joins.append(ViewJoin(part.view, query, columns, unique, fetch_late))
        joined = point_in_time_join(con, frame.table, joins)
    finally:
        con.close()
    changed = [
        name
        for name, identity in identities.items()
        if source_identity(plan.views[name].view, artifacts) != identity
    ]
    return joined, bool(changed)


def _fetches_late(view: Any, features: int, identity: str | None) -> bool:
    """Whether to match on keys and time first and fetch the features after (a second
    read of the source): for time-stamped views with more features than the two columns
    of a row id, whose transformations are row-level (a lag or window would be computed
    twice), and whose source is pinned or local (checked unchanged after the join)."""
    return (
        bool(view.timestamp)
        and features > 2
        and identity is not None
        and all(isinstance(t, Expression) for t in view.transforms)
    )


def _check_entity_frame(view: Any, frame: entity_frame.EntityFrame) -> None:
    if view.timestamp and frame.aware is not None:
        view_aware = dtypes.is_aware(view.source_schema.get(view.timestamp, ""))
        if view_aware != frame.aware:
            kind = ("aware", "naive") if frame.aware else ("naive", "aware")
            raise InvalidInput(
                f"the entity frame's timestamps ('{frame.timestamp}') are time-zone-{kind[0]} but feature "
                f"view '{view.name}' has {kind[1]} timestamps ('{view.timestamp}'); naive and aware "
                "timestamps cannot be compared. Make both aware (e.g. df[col].dt.tz_localize('UTC')) or both naive."
            )
    for key in view.entity.join_keys:
        expected = dtypes.from_duckdb(view.source_schema.get(key, ""))
        held = frame.key_kinds.get(key)
        numeric = expected in _NUMBER
        if (numeric and held != "number") or (expected == dtypes.STRING and held != "string"):
            raise InvalidInput(
                f"join key '{key}' of the entity frame holds {held} values but feature view "
                f"'{view.name}' stores it as {expected}; convert the column (e.g. df['{key}'].astype(...))."
            )


def _save_frame(artifacts: ArtifactStore, record: Any, result: pd.DataFrame) -> Any:
    import dataclasses
    import io

    buffer = io.BytesIO()
    result.to_parquet(buffer, index=False)
    key = f"features/training_sets/{record.id}.parquet"
    artifacts.put_bytes(key, buffer.getvalue())
    return dataclasses.replace(record, artifact_key=key)
