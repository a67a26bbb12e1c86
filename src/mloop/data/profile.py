"""Mergeable data profiles: a compact, serialisable summary of every column.

>>> reference = profile(train_df)
>>> window = profile(live_df, like=reference)      # same histogram edges, comparable bins
>>> merged = merge(window, profile(more_live_df, like=reference))
>>> merged["wind_speed"].quantile(0.99), merged["origin"].top_k(3)

Numeric columns keep count, nulls, min, max, mean and variance (mergeable moments), a
KLL quantile sketch, counts on fixed histogram edges and a HyperLogLog distinct count;
categorical columns (strings, categories, booleans) keep value counts (exact up to 256
distinct values, then a frequent-items sketch) and a distinct count. Data is read batch by
batch, so a Parquet file larger than memory can be profiled; columns are summarised on
two threads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from mloop.core import display
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.data._categorical import CategoricalProfile
from mloop.data._columns import ColumnProfile, kind_of
from mloop.data._numeric import NumericProfile
from mloop.data._parquet import read_batches
from mloop.data._types import column_type

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

__all__ = ["CategoricalProfile", "ColumnProfile", "NumericProfile", "Profile", "merge", "profile"]

BATCH_ROWS = 262_144  # rows per batch when a stream is re-batched


class Profile:
    """The summaries of every column of a data set, plus its row count."""

    def __init__(self, num_rows: int = 0, columns: dict[str, ColumnProfile] | None = None) -> None:
        self.num_rows = num_rows
        self.columns: dict[str, ColumnProfile] = dict(columns or {})

    def __getitem__(self, name: str) -> ColumnProfile:
        try:
            return self.columns[name]
        except KeyError:
            raise NotFound(
                f"column {name!r} is not in this profile."
                + did_you_mean(name, self.columns)
                + f" Profiled columns: {', '.join(self.columns) or '(none)'}."
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __repr__(self) -> str:
        return f"Profile(num_rows={self.num_rows}, columns={list(self.columns)})"

    def merge(self, other: Profile) -> Profile:
        """The profile of both data sets together (columns missing on one side count as nulls).

        Raises:
            InvalidInput: a column is numeric in one profile and categorical in the other.
        """
        columns: dict[str, ColumnProfile] = {}
        for name in dict.fromkeys([*self.columns, *other.columns]):
            mine, theirs = self.columns.get(name), other.columns.get(name)
            if mine is None or theirs is None:
                present = mine if mine is not None else theirs
                assert present is not None
                absent_rows = other.num_rows if mine is None else self.num_rows
                columns[name] = present.merge(_empty_like(present, absent_rows))
            elif mine.kind != theirs.kind:
                raise InvalidInput(
                    f"column {name!r} is {mine.kind} ({mine.dtype}) in one profile and "
                    f"{theirs.kind} ({theirs.dtype}) in the other; cast it to one type before profiling."
                )
            else:
                columns[name] = mine.merge(theirs)
        return Profile(self.num_rows + other.num_rows, columns)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (sketches as base64 strings)."""
        return {
            "format": 1,
            "num_rows": self.num_rows,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        if not isinstance(data, dict) or "columns" not in data:
            raise InvalidInput(
                "a profile dict needs 'num_rows' and 'columns' (the output of Profile.to_dict())"
            )
        columns = {name: from_dict(column) for name, column in data["columns"].items()}
        return cls(int(data.get("num_rows", 0)), columns)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Profile:
        return cls.from_dict(json.loads(text))

    def summary(self) -> list[dict[str, Any]]:
        """One flat row per column, for tables."""
        return [{"column": name, **column.summary()} for name, column in self.columns.items()]

    def _repr_html_(self) -> str:
        """One row per column (type, count, nulls, range or top values), for notebooks."""
        rows = self.summary()
        columns = list(dict.fromkeys(key for row in rows for key in row))
        return display.block(
            "Profile",
            display.facts({"rows": self.num_rows, "columns": len(self.columns)}),
            display.table(columns, ([row.get(c) for c in columns] for row in rows), limit=50),
        )


def merge(first: Profile, *others: Profile) -> Profile:
    """The profile of the concatenated data of every argument.

    Raises:
        InvalidInput: a column is numeric in one profile and categorical in another.
    """
    result = first
    for other in others:
        result = result.merge(other)
    return result


def _empty_like(column: ColumnProfile, rows: int) -> ColumnProfile:
    empty: ColumnProfile
    if isinstance(column, NumericProfile):
        empty = NumericProfile(column.dtype, column.edges, column.bins)
    elif isinstance(column, CategoricalProfile):
        empty = CategoricalProfile(column.dtype)
    else:
        empty = ColumnProfile(column.dtype)
    empty.nulls = rows
    return empty


def profile(
    data: Any,
    like: Profile | None = None,
    bins: int = 20,
    columns: list[str] | None = None,
) -> Profile:
    """Profile a DataFrame, an Arrow table, a Parquet/CSV path, or an iterable of batches.

    ``like`` gives reference histogram edges: numeric columns it knows are binned on its
    edges, so both profiles' histograms compare bin by bin (as drift measures need).

    Raises:
        InvalidInput: the data is of an unsupported kind or a column changes kind.
    """
    if bins < 1:
        raise InvalidInput(f"bins = {bins} must be at least 1.")
    builder = _Builder(like, bins)
    for batch in iter_batches(data, columns):
        builder.add(batch)
    return builder.result()


class _Builder:
    """Accumulates column summaries batch by batch, two columns at a time."""

    def __init__(self, like: Profile | None, bins: int) -> None:
        self.like = like
        self.bins = bins
        self.rows = 0
        self.columns: dict[str, ColumnProfile] = {}
        self.workers = max(1, min(2, os.cpu_count() or 1))

    def add(self, batch: pd.DataFrame | pa.Table) -> None:
        names = (
            [str(name) for name in batch.columns] if hasattr(batch, "iloc") else batch.column_names
        )
        if self.rows and names != list(self.columns):
            missing = [name for name in self.columns if name not in names]
            raise InvalidInput(
                f"a batch has columns {names} but earlier batches had {list(self.columns)}"
                + (f" (missing: {missing})" if missing else "")
                + "; give every batch the same columns."
            )
        length = len(batch)
        series = (
            [batch[name] for name in batch.columns] if hasattr(batch, "iloc") else batch.columns
        )
        for name, column in zip(names, series, strict=True):
            if name not in self.columns:
                self.columns[name] = self._new(name, column_type(column))
        tasks = list(zip(names, series, strict=True))
        if self.workers > 1 and length >= 50_000 and len(tasks) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(lambda task: self._update(task[0], task[1], length), tasks))
        else:
            for name, column in tasks:
                self._update(name, column, length)
        self.rows += length

    def _new(self, name: str, dtype: str) -> ColumnProfile:
        kind = kind_of(dtype)
        if kind == "numeric":
            reference = self.like.columns.get(name) if self.like is not None else None
            edges = reference.edges if isinstance(reference, NumericProfile) else None
            column: ColumnProfile = NumericProfile(dtype, edges, self.bins)
        elif kind == "categorical":
            column = CategoricalProfile(dtype)
        else:
            column = ColumnProfile(dtype)
        column.nulls = self.rows  # rows of earlier batches had no value here
        return column

    def _update(self, name: str, column: Any, length: int) -> None:
        summary = self.columns[name]
        kind = kind_of(column_type(column))
        if kind != summary.kind:
            raise InvalidInput(
                f"column {name!r} was {summary.kind} ({summary.dtype}) in earlier batches but is "
                f"{kind} ({column_type(column)}) now; cast it to one type."
            )
        if isinstance(summary, NumericProfile):
            summary.update(numeric_values(column))
        elif isinstance(summary, CategoricalProfile):
            summary.update(arrow_values(column))
        else:
            summary.update_nulls(column, length)

    def result(self) -> Profile:
        return Profile(self.rows, self.columns)


def numeric_values(column: Any) -> np.ndarray:
    """A numeric, temporal or decimal column as float64 with NaN for nulls."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(column, pa.Array | pa.ChunkedArray):
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            return column.to_numpy(dtype=np.float64, copy=False)
        if isinstance(dtype, np.dtype) and dtype.kind in "mM":
            raw = column.to_numpy().view(np.int64)
            return np.where(raw == np.iinfo(np.int64).min, np.nan, raw.astype(np.float64))
        if getattr(dtype, "numpy_dtype", None) is not None and dtype.numpy_dtype.kind in "iuf":
            return column.to_numpy(dtype=np.float64, na_value=np.nan)
        column = pa.array(column, from_pandas=True)
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_duration(kind) or pa.types.is_date64(kind):
        column = pc.cast(column, pa.int64())
    elif pa.types.is_date32(kind):
        column = pc.cast(column, pa.int32())
    column = pc.cast(column, pa.float64(), safe=False)
    if isinstance(column, pa.ChunkedArray):
        return column.to_numpy() if column.num_chunks else np.zeros(0)
    return column.to_numpy(zero_copy_only=False)


def arrow_values(column: Any) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow (zero-copy for Arrow-backed pandas strings)."""
    import pyarrow as pa

    if isinstance(column, pa.Array | pa.ChunkedArray):
        return column
    return pa.array(column, from_pandas=True)


def iter_batches(data: Any, columns: list[str] | None = None) -> Iterable[Any]:
    """Batches (DataFrames or Arrow tables) of any supported input, a bounded number of rows each."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(data, pd.DataFrame):
        frame = data if columns is None else data[columns]
        if frame.columns.duplicated().any():
            duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            raise InvalidInput(f"column names must be unique; {duplicated} appear more than once.")
        return [frame]
    if isinstance(data, pa.Table):
        return [data if columns is None else data.select(columns)]
    if isinstance(data, pa.RecordBatch):
        return [pa.Table.from_batches([data]).select(columns or data.schema.names)]
    if isinstance(data, str | os.PathLike):
        return (pa.Table.from_batches([b]) for b in read_batches(data, columns=columns))
    if isinstance(data, Iterable):
        return _from_iterable(data, columns)
    raise InvalidInput(
        f"cannot profile a {type(data).__name__}; give a pandas DataFrame, a pyarrow Table, "
        "a Parquet or CSV path, or an iterable of record batches."
    )


def _from_iterable(items: Iterable[Any], columns: list[str] | None) -> Iterator[Any]:
    import pandas as pd
    import pyarrow as pa

    for item in items:
        if isinstance(item, pa.RecordBatch):
            item = pa.Table.from_batches([item])
        if isinstance(item, pa.Table):
            yield item if columns is None else item.select(columns)
        elif isinstance(item, pd.DataFrame):
            yield item if columns is None else item[columns]
        else:
            raise InvalidInput(
                f"a batch is a {type(item).__name__}; batches must be pyarrow RecordBatches, "
                "Tables or pandas DataFrames."
            )


def from_dict(data: dict[str, Any]) -> ColumnProfile:
    """Rebuild any column summary from :meth:`ColumnProfile.to_dict`."""
    kind = data.get("kind")
    if kind == "numeric":
        return NumericProfile.from_dict(data)
    if kind == "categorical":
        return CategoricalProfile.from_dict(data)
    if kind == "other":
        return ColumnProfile(data["dtype"], int(data["count"]), int(data["nulls"]))
    raise InvalidInput(
        f"column profile kind {kind!r} is unknown; expected numeric, categorical or other"
    )
