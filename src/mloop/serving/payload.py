"""Request bodies: mloop's ``records`` / ``columns``+``data`` and MLflow's four formats.

Every accepted body becomes :class:`Columns` (one Python list per field), which is what
validation and micro-batching work on; a DataFrame is built once per batch, not per request.

>>> parse({"records": [{"distance": 100, "carrier": "UA"}]}).rows
1
>>> parse({"dataframe_split": {"columns": ["distance"], "data": [[100], [250]]}}).rows
2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mloop.core.errors import InvalidInput
from mloop.serving.errors import BadRequest

FORMATS = (
    "records",
    "columns/data",
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
)
_KEYS = {
    "records",
    "columns",
    "data",
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
    "request_ids",
    "params",
}


@dataclass
class Columns:
    """A request's rows as one list per field, plus the client's request ids if it sent any."""

    data: dict[str, list[Any]]
    rows: int
    request_ids: list[str] | None = None


def loads(body: bytes) -> Any:
    """Decode a JSON body; a malformed or empty one is a 400 that says so."""
    import orjson

    if not body or not body.strip():
        raise BadRequest(
            'the request body is empty; send JSON such as {"records": [{"distance": 100}]}.'
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if b"NaN" in body or b"Infinity" in body:
            raise BadRequest(
                "the request body holds NaN or Infinity, which JSON does not allow; send null "
                "for a missing value (accepted only where the model's signature allows it)."
            ) from None
        raise BadRequest(
            f"the request body is not valid JSON ({exc}); send an object such as "
            '{"records": [{"distance": 100}]}.'
        ) from None


def parse(body: Any, field_order: Sequence[str] | None = None) -> Columns:
    """The rows of a decoded body in any accepted format.

    ``field_order`` names the columns of list-shaped rows (``instances`` / ``inputs`` given
    as lists of lists), usually the model signature's input names.
    """
    if not isinstance(body, dict):
        raise InvalidInput(
            f"the request body is a JSON {type(body).__name__}, not an object; send "
            '{"records": [...]} or one of MLflow\'s formats (dataframe_split, dataframe_records, '
            "instances, inputs)."
        )
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise InvalidInput(
            f"unknown field {unknown[0]!r} in the request body; use one of: records, "
            "columns + data, dataframe_split, dataframe_records, instances, inputs "
            "(and optionally request_ids)."
        )
    present = [
        k
        for k in ("records", "data", "dataframe_split", "dataframe_records", "instances", "inputs")
        if k in body
    ]
    if len(present) != 1:
        raise InvalidInput(
            "the request body must hold exactly one of records, columns + data, dataframe_split, "
            f"dataframe_records, instances or inputs; it holds {present or 'none of them'}."
        )
    key = present[0]
    value = body[key]
    if key == "records" or key == "dataframe_records":
        columns = _records(value, key)
    elif key == "data":
        columns = _split(body.get("columns"), value, "columns/data")
    elif key == "dataframe_split":
        if not isinstance(value, dict):
            raise InvalidInput(
                'dataframe_split must be an object {"columns": [...], "data": [[...], ...]}.'
            )
        columns = _split(value.get("columns"), value.get("data"), "dataframe_split")
    else:
        columns = _tensor_like(value, key, field_order)
    columns.request_ids = _request_ids(body.get("request_ids"), columns.rows)
    return columns


def _records(value: Any, key: str) -> Columns:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InvalidInput(
            f'{key} must be a non-empty list of objects, e.g. [{{"distance": 100}}].'
        )
    if len(value) == 1:
        row = value[0]
        if not isinstance(row, dict):
            raise InvalidInput(
                f"{key}[0] is a {type(row).__name__}, not an object of field values."
            )
        return Columns({str(k): [v] for k, v in row.items()}, 1)
    names: dict[str, None] = {}
    for index, row in enumerate(value):
        if not isinstance(row, dict):
            raise InvalidInput(
                f"{key}[{index}] is a {type(row).__name__}, not an object of field values."
            )
        names.update(dict.fromkeys(row))
    data = {str(n): [row.get(n) for row in value] for n in names}
    return Columns(data, len(value))


def _split(columns: Any, data: Any, where: str) -> Columns:
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InvalidInput(f"{where}: 'columns' must be a list of field names.")
    if not isinstance(data, list) or not data:
        raise InvalidInput(f"{where}: 'data' must be a non-empty list of rows (lists of values).")
    width = len(columns)
    for index, row in enumerate(data):
        if not isinstance(row, list) or len(row) != width:
            raise InvalidInput(
                f"{where}: data[{index}] has {len(row) if isinstance(row, list) else 'no'} values "
                f"but there are {width} columns; give one value per column."
            )
    return Columns({name: [row[i] for row in data] for i, name in enumerate(columns)}, len(data))


def _tensor_like(value: Any, key: str, field_order: Sequence[str] | None) -> Columns:
    if isinstance(value, dict):  # {"field": [values], ...} (MLflow's columnar inputs)
        data = {str(k): v if isinstance(v, list) else [v] for k, v in value.items()}
        sizes = {len(v) for v in data.values()}
        if len(sizes) != 1 or 0 in sizes:
            raise InvalidInput(
                f"{key}: every field needs the same, non-zero number of values; got lengths "
                f"{sorted(sizes)}."
            )
        return Columns(data, sizes.pop())
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        return _records(value, key)
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        if not field_order:
            raise InvalidInput(
                f"{key} given as lists of values, but the model has no signature naming its "
                'fields; send records such as [{"distance": 100}] instead.'
            )
        return _split(list(field_order), value, key)
    raise InvalidInput(
        f"{key} must be a list of objects, a list of value lists or an object of field lists."
    )


def _request_ids(value: Any, rows: int) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, list)
        or len(value) != rows
        or not all(isinstance(v, str) and 0 < len(v) <= 128 for v in value)
    ):
        raise InvalidInput(
            f"request_ids must be a list of {rows} non-empty strings (at most 128 characters), "
            "one per row."
        )
    if len(set(value)) != len(value):
        twice = next(v for i, v in enumerate(value) if v in value[:i])
        raise InvalidInput(
            f"request_ids holds {twice!r} more than once; give each row its own id (a label "
            "sent for that id could not say which row it is for)."
        )
    return value
