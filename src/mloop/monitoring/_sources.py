"""The two sides of a comparison, whatever they were given as: DataFrame, Arrow table, profile.

A source lists its columns with their kind (``numeric``, ``categorical``, ``temporal`` or
``other``) and summarises one column on demand (see :mod:`mloop.monitoring._sides`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput
from mloop.data import DatasetVersion, Profile, load
from mloop.monitoring._sides import CategoricalSide, NumericSide

if TYPE_CHECKING:
    import pandas as pd

Side = NumericSide | CategoricalSide
_TEMPORAL = ("timestamp", "date", "duration", "time")


class Source:
    """Columns, kinds and per-column summaries of one side."""

    def __init__(self, rows: int, kinds: dict[str, str], exact: bool) -> None:
        self.rows = rows
        self.kinds = kinds
        self.exact = exact

    def side(self, name: str, as_kind: str) -> Side:
        raise NotImplementedError


class FrameSource(Source):
    """A pandas DataFrame (an Arrow table is converted column by column)."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        kinds = {str(name): series_kind(frame[name]) for name in frame.columns}
        super().__init__(len(frame), kinds, exact=True)

    def side(self, name: str, as_kind: str) -> Side:
        series = self.frame[name]
        if as_kind == "numeric":
            return NumericSide.from_values(numeric_values(series))
        return CategoricalSide.from_values(series)


class ProfileSource(Source):
    """A :class:`mloop.data.Profile` (histograms on fixed edges, quantile sketches, counts)."""

    def __init__(self, profile: Any) -> None:
        self.profile = profile
        kinds = {name: profile_kind(column) for name, column in profile.columns.items()}
        super().__init__(int(profile.num_rows), kinds, exact=False)

    def side(self, name: str, as_kind: str) -> Side:
        column = self.profile.columns[name]
        if column.kind == "numeric":
            return NumericSide.from_profile(column)
        return CategoricalSide.from_profile(column)


def series_kind(series: pd.Series) -> str:
    """``numeric``, ``categorical``, ``temporal`` or ``other`` for a pandas column."""
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if types.is_bool_dtype(dtype):
        return "categorical"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return "temporal"
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        arrow = dtype.pyarrow_dtype
        if pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
            return "numeric"
        if pa.types.is_temporal(arrow):
            return "temporal"
        if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
            return "categorical"
        if pa.types.is_dictionary(arrow) or pa.types.is_boolean(arrow):
            return "categorical"
        return "other"
    if types.is_numeric_dtype(dtype):
        return "numeric"
    if types.is_string_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return "categorical" if inferred in ("string", "empty", "boolean", "mixed") else "other"
    return "other"


def profile_kind(column: Any) -> str:
    dtype = str(getattr(column, "dtype", ""))
    if dtype.startswith(_TEMPORAL):
        return "temporal"
    kind = str(column.kind)
    return kind if kind in ("numeric", "categorical") else "other"


def numeric_values(series: Any) -> Any:
    """A numeric pandas column as float64 with NaN for nulls."""
    import numpy as np

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return series.to_numpy(dtype=np.float64, copy=False)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def source_of(data: Any, role: str) -> Source:
    """A :class:`Source` for a DataFrame, Arrow table, Profile or dataset version/reference."""
    import pandas as pd

    if isinstance(data, Profile):
        return ProfileSource(data)
    if isinstance(data, pd.DataFrame):
        _check_unique(data, role)
        return FrameSource(data)
    if isinstance(data, DatasetVersion | str):
        return FrameSource(load(data))
    try:
        import pyarrow as pa

        if isinstance(data, pa.Table | pa.RecordBatch):
            return FrameSource(data.to_pandas())
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    raise InvalidInput(
        f"{role} is a {type(data).__name__}; give a pandas DataFrame, a pyarrow Table, a "
        "mloop.data.Profile, a dataset version or a dataset reference such as 'weather@3'."
    )


def _check_unique(frame: pd.DataFrame, role: str) -> None:
    if frame.columns.duplicated().any():
        repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InvalidInput(
            f"{role} has repeated column names {repeated}; rename them so each appears once."
        )
