"""Slices: the subsets of rows that metrics are broken down by.

A slice is a column (one slice per value), a numeric column cut into bins, or a cross of
columns::

    mloop.evaluate(model, df, target="late",
                   slices=["origin", ("origin", "carrier"), Slice("distance", bins=4)])

Missing values form their own ``<missing>`` slice: no row is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["MISSING", "Slice", "as_slice"]

MISSING = "<missing>"
MAX_CATEGORIES = 20  # numeric columns with more distinct values are binned
DEFAULT_BINS = 5


@dataclass(frozen=True)
class Slice:
    """Break metrics down by ``columns`` (several columns: their cross).

    ``bins`` cuts a numeric column: a number of quantile bins, or a list of edges.
    Numeric columns with more than 20 distinct values get 5 quantile bins by default.

    >>> Slice("distance", bins=[0, 500, 1500, 5000]).name
    'distance'
    """

    columns: tuple[str, ...]
    bins: int | tuple[float, ...] | None = None

    def __init__(self, columns: str | Sequence[str], bins: Any = None) -> None:
        cols = (columns,) if isinstance(columns, str) else tuple(columns)
        if not cols or not all(isinstance(c, str) and c for c in cols):
            raise InvalidInput(
                f"slice columns {columns!r} are not valid; give a column name or a tuple of names."
            )
        if bins is not None:
            if isinstance(bins, bool) or not (
                (isinstance(bins, int) and bins >= 2)
                or (
                    isinstance(bins, Sequence)
                    and len(bins) >= 2
                    and all(isinstance(b, int | float) for b in bins)
                    and list(bins) == sorted(bins)
                )
            ):
                raise InvalidInput(
                    f"slice bins {bins!r} for {', '.join(cols)} are not valid; give a number of "
                    "quantile bins (>= 2) or increasing edges such as [0, 500, 1500]."
                )
            bins = bins if isinstance(bins, int) else tuple(float(b) for b in bins)
        object.__setattr__(self, "columns", cols)
        object.__setattr__(self, "bins", bins)

    @property
    def name(self) -> str:
        return " × ".join(self.columns)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"columns": list(self.columns)}
        if self.bins is not None:
            data["bins"] = self.bins if isinstance(self.bins, int) else list(self.bins)
        return data


def as_slice(spec: Any) -> Slice:
    """A :class:`Slice` from a column name, a tuple of names, a dict or a Slice."""
    if isinstance(spec, Slice):
        return spec
    if isinstance(spec, str):
        return Slice(spec)
    if isinstance(spec, dict):
        columns = spec.get("columns", spec.get("column"))
        unknown = set(spec) - {"columns", "column", "bins"}
        if columns is None or unknown:
            raise InvalidInput(
                f"slice {spec!r} is not valid; use {{'column': 'distance', 'bins': 4}} or "
                "{'columns': ['origin', 'carrier']}."
            )
        return Slice(columns, spec.get("bins"))
    if isinstance(spec, tuple | list):
        return Slice(tuple(spec))
    raise InvalidInput(
        f"slice {spec!r} is a {type(spec).__name__}; give a column name, a tuple of column names "
        "or mloop.evaluation.Slice(column, bins=...)."
    )


def _labels(column: pd.Series, bins: int | tuple[float, ...] | None) -> pd.Series:
    """One string label per row: the value, or the bin the value falls in."""
    import pandas as pd

    numeric = column.dtype.kind in "iuf" and column.dtype.kind != "b"
    if bins is None and numeric and column.nunique() > MAX_CATEGORIES:
        bins = DEFAULT_BINS
    if bins is not None:
        if not numeric:
            raise InvalidInput(
                f"slice column {column.name!r} is not numeric ({column.dtype}); bins apply to "
                "numbers only. Drop bins= to slice by each value."
            )
        if isinstance(bins, int):
            cut = pd.qcut(column, q=bins, duplicates="drop")
        else:
            cut = pd.cut(column, bins=list(bins), include_lowest=True)
        text = cut.astype(str)
        outside = cut.isna() & column.notna()
        text = text.mask(outside, "<outside bins>")
    else:
        text = column.astype(str)
    return text.mask(column.isna(), MISSING)


def codes(frame: pd.DataFrame, spec: Slice) -> tuple[np.ndarray, list[str]]:
    """A group number per row and the label of each group, for one slice."""
    import pandas as pd

    parts = [_labels(frame[c], spec.bins) for c in spec.columns]
    key = parts[0]
    for part in parts[1:]:
        key = key + " | " + part
    numbers, uniques = pd.factorize(key, sort=True)
    return numbers, [str(u) for u in uniques]
