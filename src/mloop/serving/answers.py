"""Answers: request ids, the JSON of a prediction, and errors mapped to HTTP statuses."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any

from mloop.core.errors import InvalidInput, MloopError
from mloop.core.ids import new_id
from mloop.core.log import get_logger

_log = get_logger("mloop.serving")


class ModelFailed(MloopError):
    """The model raised on input that passed validation (a server-side fault): 500."""

    http_status = 500


_PREFIX = new_id()[:16]  # random per process; a counter makes the rest unique
_COUNTER = itertools.count(1)


def request_ids_for(base: str | None, rows: int) -> list[str]:
    """The client's id (``<id>-<row>`` for several rows), else a fresh 32-hex id."""
    if not base or len(base) > 100:
        base = f"{_PREFIX}{next(_COUNTER):016x}"
    return [base] if rows == 1 else [f"{base}-{i}" for i in range(rows)]


class RecentIds:
    """The last ``size`` request ids that clients chose, to count the ones sent again.

    A repeated id is answered and logged like any other (a client's retry is legitimate,
    and one replica cannot see the ids of the others): it is counted, not refused (see
    docs/decisions/0121-serving-docs-metrics-request-ids.md).
    """

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def repeats(self, ids: list[str]) -> int:
        """How many of ``ids`` were seen before (and remember them)."""
        seen = self._seen
        repeated = 0
        for request_id in ids:
            if request_id in seen:
                repeated += 1
                seen.move_to_end(request_id)
            else:
                seen[request_id] = None
        while len(seen) > self.size:
            seen.popitem(last=False)
        return repeated


def answer_of(
    outputs: dict[str, list[Any]], versions: list[str], ids: list[str], start: int, end: int
) -> dict[str, Any]:
    """The answer to the request that owns rows ``start:end`` of the batch outputs (lists)."""
    answer: dict[str, Any] = {}
    if "prediction" in outputs:
        answer["predictions"] = outputs["prediction"][start:end]
        for column, values in outputs.items():
            if column != "prediction":
                answer[column] = values[start:end]
    else:
        names = list(outputs)
        sliced = [outputs[n][start:end] for n in names]
        answer["predictions"] = [
            dict(zip(names, row, strict=True)) for row in zip(*sliced, strict=True)
        ]
    first = versions[start]
    same = end - start == 1 or versions[start:end].count(first) == end - start
    answer["model_version"] = first if same else versions[start:end]
    answer["request_ids"] = ids
    return answer


def as_error(graph: str, exc: Exception) -> Exception:
    """What a request that failed alone is answered: a client error unless the model broke."""
    if isinstance(exc, MloopError):
        return exc
    if isinstance(exc, (ValueError, TypeError, KeyError)):
        return InvalidInput(
            f"model {graph!r} could not score this request: {exc}. Check the values sent."
        )
    _log.error("model %s failed on a batch: %r", graph, exc)
    return ModelFailed(f"model {graph!r} failed: {type(exc).__name__}: {exc}")


_CODES = {
    400: "BAD_REQUEST",
    404: "RESOURCE_DOES_NOT_EXIST",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_PARAMETER_VALUE",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
    504: "TIMEOUT",
}


def error_body(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of an error (MLflow's ``error_code`` + ``message`` shape)."""
    status = exc.http_status if isinstance(exc, MloopError) else 500
    message = str(exc) if isinstance(exc, MloopError) else "internal error; see the server log."
    return status, {"error_code": _CODES.get(status, "INTERNAL_ERROR"), "message": message}
