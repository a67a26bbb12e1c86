"""Online reads: one batched lookup per request, ttl applied at read time.

Every value comes with a status: ``PRESENT``, ``NULL`` (the stored value is null),
``NOT_FOUND`` (no row for the entity) or ``EXPIRED`` (older than the view's ttl at ``now``;
the value is returned as null).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mloop.core.clock import datetime_to_ms, now_ms
from mloop.core.errors import InvalidInput, did_you_mean
from mloop.features.online.codec import decode_many, encode_key, key_part
from mloop.features.plan import on_demand_inputs

if TYPE_CHECKING:
    import pandas as pd

    from mloop.features.online import OnlineStore
    from mloop.features.plan import Plan, ViewPart

PRESENT, NULL, NOT_FOUND, EXPIRED = "PRESENT", "NULL", "NOT_FOUND", "EXPIRED"


@dataclass(frozen=True)
class OnlineResponse:
    """Columns of values (entity keys first) and a status per feature value."""

    keys: dict[str, list[Any]]
    values: dict[str, list[Any]]
    statuses: dict[str, list[str]]
    event_times: dict[str, list[int | None]]  # per view: microseconds since the epoch (UTC)

    def to_dict(self) -> dict[str, list[Any]]:
        return {**self.keys, **self.values}

    def to_df(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.to_dict())

    def __len__(self) -> int:
        return len(next(iter(self.keys.values()), []))


def namespace(view_name: str, version: int) -> str:
    return f"{view_name}/{version}"


@dataclass(frozen=True)
class _Read:
    """What an online read needs of one view, computed once per plan."""

    name: str
    namespace: str
    keys: tuple[str, ...]
    index: tuple[int, ...]  # position of each requested feature in the stored values
    columns: tuple[str, ...]
    ttl: int | None
    timed: bool


def _prepared(part: ViewPart) -> _Read:
    found = getattr(part, "_read", None)
    if found is None:
        view = part.view
        order = view.feature_names
        found = _Read(
            view.name,
            namespace(view.name, part.version),
            tuple(view.entity.join_keys),
            tuple(order.index(f) for f in part.features),
            tuple(part.column(f) for f in part.features),
            view.ttl_micros if view.timestamp else None,
            bool(view.timestamp),
        )
        part._read = found  # type: ignore[attr-defined]
    return found


def _columns(entity_rows: Any) -> dict[str, list[Any]]:
    if hasattr(entity_rows, "to_dict") and hasattr(entity_rows, "columns"):
        return {str(c): list(entity_rows[c]) for c in entity_rows.columns}
    if isinstance(entity_rows, dict):
        columns = {
            str(k): list(v) if isinstance(v, (list, tuple)) else [v] for k, v in entity_rows.items()
        }
    elif isinstance(entity_rows, (list, tuple)) and all(isinstance(r, dict) for r in entity_rows):
        names = list(dict.fromkeys(k for row in entity_rows for k in row))
        columns = {n: [row.get(n) for row in entity_rows] for n in names}
    else:
        raise InvalidInput("entity_rows must be a list of dicts, a dict of lists or a DataFrame.")
    sizes = {len(v) for v in columns.values()}
    if len(sizes) > 1:
        raise InvalidInput(
            f"entity_rows columns have different lengths {sorted(sizes)}; give one value per row."
        )
    return columns


def read_online(
    online: OnlineStore, entity_rows: Any, plan: Plan, now: datetime | None
) -> OnlineResponse:
    columns = _columns(entity_rows)
    rows = len(next(iter(columns.values()), []))
    for key in [*plan.join_keys, *plan.request_fields]:
        if key not in columns:
            raise InvalidInput(
                f"entity_rows lack the field '{key}'." + did_you_mean(key, list(columns))
            )
    now_us = (datetime_to_ms(now) if now is not None else now_ms()) * 1000
    parts = [_prepared(part) for part in plan.views.values()]
    requests = []
    for part in parts:
        key_columns = [columns[k] for k in part.keys]
        if len(key_columns) == 1:
            keys = [key_part(v) or "" for v in key_columns[0]]
        else:
            keys = [encode_key([c[i] for c in key_columns]) or "" for i in range(rows)]
        requests.append((part.namespace, keys))
    answers = online.read(requests)
    values: dict[str, list[Any]] = {}
    statuses: dict[str, list[str]] = {}
    times: dict[str, list[int | None]] = {}
    for part, found in zip(parts, answers, strict=True):
        present = [entry for entry in found if entry is not None]
        decoded = iter(decode_many([payload for _, payload in present]))
        width = max(part.index, default=-1) + 1
        missing_row = [None] * width
        rows_values: list[list[Any]] = []
        row_status: list[str] = []
        stamps: list[int | None] = []
        cutoff = None if part.ttl is None else now_us - part.ttl
        for entry in found:
            if entry is None:
                rows_values.append(missing_row)
                row_status.append(NOT_FOUND)
                stamps.append(None)
                continue
            values_of_row = next(decoded)
            stamps.append(entry[0] if part.timed else None)
            if cutoff is not None and entry[0] < cutoff:
                rows_values.append(missing_row)
                row_status.append(EXPIRED)
            else:
                rows_values.append(values_of_row)
                row_status.append(PRESENT)
        for position, column in zip(part.index, part.columns, strict=True):
            column_values = [row[position] for row in rows_values]
            values[column] = column_values
            statuses[column] = [
                NULL if status is PRESENT and value is None else status
                for status, value in zip(row_status, column_values, strict=True)
            ]
        times[part.name] = stamps
    if plan.on_demand:
        _on_demand(plan, values, statuses, columns)
    return OnlineResponse(
        {k: columns[k] for k in plan.join_keys},
        {out: values[ref] for ref, out in zip(plan.refs, plan.outputs, strict=True)},
        {out: statuses[ref] for ref, out in zip(plan.refs, plan.outputs, strict=True)},
        times,
    )


def _on_demand(
    plan: Plan,
    values: dict[str, list[Any]],
    statuses: dict[str, list[str]],
    columns: dict[str, list[Any]],
) -> None:
    import pandas as pd

    for odfv, _ in plan.on_demand:
        request = {name: columns[name] for name in odfv.request}
        computed = odfv.compute(pd.DataFrame(on_demand_inputs(odfv, values, request)))
        for name in odfv.feature_names:
            column = [
                None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                for v in computed[name]
            ]
            values[f"{odfv.name}:{name}"] = column
            statuses[f"{odfv.name}:{name}"] = [PRESENT if v is not None else NULL for v in column]
