"""Reading a view's source: its columns must still have the types recorded at apply.

:func:`checked_query` is the single entry to a view's feature rows for training sets and
materialization; a source whose column changed type (or vanished) is one clear error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.features import dtypes
from mloop.features.offline import describe, parquet_relation, unique_times
from mloop.features.view_sql import compile_view

if TYPE_CHECKING:
    import duckdb

    from mloop.features.feature_view import FeatureView
    from mloop.store.artifacts import ArtifactStore


def source_schema(
    con: duckdb.DuckDBPyConnection, view: FeatureView, artifacts: ArtifactStore
) -> tuple[str, dict[str, str]]:
    """The DuckDB relation of the view's source and its column types."""
    import duckdb

    path = view.source.path(artifacts)
    relation = parquet_relation(path)
    try:
        return relation, describe(con, relation)
    except duckdb.Error as exc:
        raise NotFound(
            f"feature view '{view.name}': cannot read its source {view.source.describe()} at {path}: "
            f"{str(exc).splitlines()[0]}. Check that the Parquet data exists."
        ) from None


def check_types(view: FeatureView, actual: dict[str, str], recorded: dict[str, str]) -> None:
    """Every column the definition reads exists with a compatible type."""
    for column, expected in recorded.items():
        if column not in actual:
            raise InvalidInput(
                f"feature view '{view.name}': its source {view.source.describe()} has no column "
                f"'{column}' any more."
                + did_you_mean(column, actual)
                + " Fix the data or re-apply the view."
            )
        want, got = dtypes.from_duckdb(expected), dtypes.from_duckdb(actual[column])
        same_zone = dtypes.is_aware(expected) == dtypes.is_aware(actual[column])
        if not dtypes.compatible(want, got) or (want == dtypes.TIMESTAMP and not same_zone):
            raise InvalidInput(
                f"feature view '{view.name}': column '{column}' of {view.source.describe()} is "
                f"{actual[column]} but the definition reads it as {expected}; fix the data's type "
                "or re-apply the view to record the new one."
            )


_UNIQUE: dict[tuple[str, ...], bool] = {}


def source_identity(view: FeatureView, artifacts: ArtifactStore) -> str | None:
    """What pins the source's content: its hash, its dataset version, or its files' sizes
    and modification times (None for remote files, which are never assumed unchanged)."""
    import glob
    import os

    if view.source.sha256:
        return view.source.sha256
    if view.source.dataset:
        return view.source.dataset
    path = view.source.path(artifacts)
    if "://" in path:
        return None
    pattern = (
        path
        if any(c in path for c in "*?[") or path.endswith(".parquet")
        else f"{path}/**/*.parquet"
    )
    files = sorted(glob.glob(pattern, recursive=True))
    stats = [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]
    return repr(stats) if stats else None


def has_unique_times(
    con: duckdb.DuckDBPyConnection, view: FeatureView, identity: str | None, relation: str
) -> bool:
    """:func:`unique_times`, remembered per source content (``identity``, from
    :func:`source_identity`) in this process."""
    if not view.timestamp:
        return True
    if identity is None:
        return False
    key = (identity, view.timestamp, *view.entity.join_keys)
    if key not in _UNIQUE:
        _UNIQUE[key] = unique_times(con, view, relation)
    return _UNIQUE[key]


def checked_query(
    con: duckdb.DuckDBPyConnection, view: FeatureView, artifacts: ArtifactStore
) -> str:
    """The view's feature-row query, after checking its source against the definition."""
    return checked_source(con, view, artifacts)[0]


def checked_source(
    con: duckdb.DuckDBPyConnection,
    view: FeatureView,
    artifacts: ArtifactStore,
    row_ids: bool = False,
) -> tuple[str, str]:
    """The view's feature-row query and its source relation, after the type check."""
    relation, actual = source_schema(con, view, artifacts)
    check_types(view, actual, view.source_schema)
    return compile_view(view, relation, actual, row_ids), relation
