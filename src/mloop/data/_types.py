"""Column types under one naming for pandas and Arrow data.

A type name is Arrow's, shortened where Arrow has two spellings of one thing
(``float64`` for ``double``, ``string`` for ``large_string``, ``category`` for a
dictionary): ``int64``, ``float64``, ``bool``, ``string``, ``timestamp[us, tz=UTC]``,
``date32``, ``category``... A *family* groups names for checks that should not care
about width: ``integer``, ``float``, ``numeric``, ``boolean``, ``string``, ``timestamp``,
``date``, ``duration``, ``decimal``, ``category``, ``binary``, ``other``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

FAMILIES = (
    "integer",
    "float",
    "numeric",
    "boolean",
    "string",
    "timestamp",
    "date",
    "duration",
    "decimal",
    "category",
    "binary",
    "other",
)
_RENAME = {
    "double": "float64",
    "float": "float32",
    "halffloat": "float16",
    "large_string": "string",
    "large_binary": "binary",
    "string_view": "string",
    "binary_view": "binary",
}


def type_name(arrow_type: pa.DataType) -> str:
    """The short name of an Arrow type (see the module docstring)."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return "category"
    text = str(arrow_type)
    return _RENAME.get(text, text)


def family(name: str) -> str:
    """The family of a type name (``int32`` -> ``integer``)."""
    if name.startswith(("int", "uint")):
        return "integer"
    if name.startswith("float"):
        return "float"
    if name == "bool":
        return "boolean"
    if name == "string":
        return "string"
    for prefix in ("timestamp", "date", "duration", "decimal", "binary"):
        if name.startswith(prefix):
            return prefix
    if name == "category":
        return "category"
    return "other"


def matches(name: str, wanted: str) -> bool:
    """Whether type ``name`` satisfies ``wanted`` (an exact name or a family)."""
    if wanted == name:
        return True
    kind = family(name)
    if wanted == "numeric":
        return kind in ("integer", "float", "decimal")
    return wanted == kind


def column_type(column: pd.Series | pa.ChunkedArray | pa.Array) -> str:
    """The type name of a pandas or Arrow column (``object`` for mixed Python objects)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray | pa.Array):
        return type_name(column.type)
    arrow_type = arrow_type_of(column)
    return "object" if arrow_type is None else type_name(arrow_type)


def arrow_type_of(series: pd.Series) -> pa.DataType | None:
    """The Arrow type a pandas column converts to, found without converting its values.

    None for an object column of mixed Python values.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return dtype.pyarrow_dtype
    if isinstance(dtype, pd.CategoricalDtype):
        values = arrow_type_of(pd.Series(dtype.categories))
        return pa.dictionary(pa.int32(), values or pa.string())
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pa.timestamp(dtype.unit, tz=str(dtype.tz))
    if isinstance(dtype, pd.StringDtype):
        return pa.string()
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        try:
            return pa.from_numpy_dtype(dtype)
        except (pa.ArrowNotImplementedError, TypeError):
            return None
    numpy_dtype = getattr(dtype, "numpy_dtype", None)  # masked Int64, Float64, boolean
    if numpy_dtype is not None and numpy_dtype.kind != "O":
        return pa.from_numpy_dtype(numpy_dtype)
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return {
        "string": pa.string(),
        "empty": pa.string(),
        "bytes": pa.binary(),
        "boolean": pa.bool_(),
        "integer": pa.int64(),
        "floating": pa.float64(),
        "date": pa.date32(),
    }.get(inferred)


def describe(value: Any) -> str:
    """A short name of a Python value's type for error messages."""
    return type(value).__name__
