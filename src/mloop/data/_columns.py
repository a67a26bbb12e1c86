"""Mergeable summaries of one column: numeric, categorical or other.

A summary is updated batch by batch and merged with another summary of the same column;
the merge of the summaries of two parts is the summary of the whole (exactly for counts,
extremes, moments and histogram counts; within the sketches' stated error for quantiles,
distinct counts and the frequencies of a column with many values).
"""

from __future__ import annotations

from typing import Any

from mloop.data._types import family

NUMERIC_FAMILIES = ("integer", "float", "decimal", "timestamp", "date", "duration")
CATEGORICAL_FAMILIES = ("string", "category", "boolean")


def kind_of(type_name: str) -> str:
    """``numeric``, ``categorical`` or ``other`` for a column type name."""
    kind = family(type_name)
    if kind in NUMERIC_FAMILIES:
        return "numeric"
    if kind in CATEGORICAL_FAMILIES:
        return "categorical"
    return "other"


class ColumnProfile:
    """What every column summary has: its type, and how many values are present or null."""

    kind = "other"

    def __init__(self, dtype: str, count: int = 0, nulls: int = 0) -> None:
        self.dtype = dtype
        self.count = count
        self.nulls = nulls

    @property
    def rows(self) -> int:
        return self.count + self.nulls

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    def update_nulls(self, column: Any, length: int) -> None:
        import pyarrow as pa

        nulls = (
            column.null_count
            if isinstance(column, pa.Array | pa.ChunkedArray)
            else int(column.isna().sum())
        )
        self.nulls += nulls
        self.count += length - nulls

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        return ColumnProfile(self.dtype, self.count + other.count, self.nulls + other.nulls)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "dtype": self.dtype, "count": self.count, "nulls": self.nulls}

    def summary(self) -> dict[str, Any]:
        """A flat, readable description (for tables and reports)."""
        return {"type": self.dtype, "count": self.count, "nulls": self.nulls}
