"""Feature types: a small vocabulary (``float64``, ``int64``, ``bool``, ``string``, ``timestamp``).

A definition records the type of every column it reads; at ingest the source's columns
must still have a compatible type (integers may feed a float feature, nothing else mixes).
"""

from __future__ import annotations

from mloop.core.errors import InvalidInput

FLOAT, INT, BOOL, STRING, TIMESTAMP, DATE = (
    "float64",
    "int64",
    "bool",
    "string",
    "timestamp",
    "date",
)
_ALIASES = {
    "float": FLOAT,
    "float64": FLOAT,
    "double": FLOAT,
    "float32": FLOAT,
    "int": INT,
    "int64": INT,
    "int32": INT,
    "int16": INT,
    "int8": INT,
    "integer": INT,
    "bool": BOOL,
    "boolean": BOOL,
    "str": STRING,
    "string": STRING,
    "varchar": STRING,
    "timestamp": TIMESTAMP,
    "datetime": TIMESTAMP,
    "datetime64": TIMESTAMP,
    "date": DATE,
}
_INTS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)


def normalize(dtype: str, what: str) -> str:
    """The canonical name of a declared type (``"float"`` -> ``"float64"``)."""
    canonical = _ALIASES.get(str(dtype).strip().lower())
    if canonical is None:
        raise InvalidInput(
            f"{what} has type {dtype!r}, which is not a feature type; use one of "
            "float64, int64, bool, string, timestamp, date."
        )
    return canonical


def from_duckdb(type_name: str) -> str:
    """The feature type of a DuckDB column type (unknown types keep their DuckDB name)."""
    upper = type_name.upper()
    if upper in _INTS:
        return INT
    if upper in ("FLOAT", "DOUBLE") or upper.startswith("DECIMAL"):
        return FLOAT
    if upper == "BOOLEAN":
        return BOOL
    if upper == "VARCHAR":
        return STRING
    if upper.startswith("TIMESTAMP"):
        return TIMESTAMP
    if upper == "DATE":
        return DATE
    return type_name.lower()


def is_aware(type_name: str) -> bool:
    """True for DuckDB's time-zone-aware timestamp type."""
    return type_name.upper() in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")


def compatible(declared: str, actual: str) -> bool:
    """Whether data of type ``actual`` can feed a column declared ``declared``."""
    return declared == actual or (declared == FLOAT and actual == INT)
