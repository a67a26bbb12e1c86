"""MLflow's wire conventions: error bodies with ``error_code``, JSON numbers, page tokens.

Every route of the MLflow API is an :class:`MlflowRoute`, which turns mloop's errors and
request-validation errors into MLflow's error body
``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}`` with the HTTP status
MLflow's server uses for that code, so the stock client raises the same exceptions.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from mloop.core.errors import (
    AlreadyExists,
    Conflict,
    GateFailed,
    InvalidInput,
    MloopError,
    NotFound,
    StoreUnavailable,
)
from mloop.core.log import get_logger

log = get_logger("mloop.server.mlflow")

# MLflow's error codes and the HTTP status its server answers each with
STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "BAD_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "NOT_IMPLEMENTED": 501,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "TEMPORARILY_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
}


class MlflowError(Exception):
    """An error to answer with a given MLflow ``error_code`` (see :data:`STATUS`)."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code


def error_code(error: MloopError) -> str:
    """The MLflow error code of an mloop error."""
    if isinstance(error, NotFound):
        return "RESOURCE_DOES_NOT_EXIST"
    if isinstance(error, AlreadyExists):
        return "RESOURCE_ALREADY_EXISTS"
    if isinstance(error, (InvalidInput, Conflict)):
        # MLflow answers a changed param or a deleted run's logging with this code
        return "INVALID_PARAMETER_VALUE"
    if isinstance(error, GateFailed):
        return "PERMISSION_DENIED"
    if isinstance(error, StoreUnavailable):
        return "TEMPORARILY_UNAVAILABLE"
    by_status = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "REQUEST_LIMIT_EXCEEDED"}
    return by_status.get(error.http_status, "INTERNAL_ERROR")


def error_response(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=STATUS[code])


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("body", "query"))
        given = problem.get("input")
        shown = "" if isinstance(given, dict) or given is None else f" (got {given!r})"
        parts.append(f"field {where or 'body'!r}: {problem.get('msg', 'invalid')}{shown}")
    return "; ".join(parts) + ". See docs/mlflow-compat.md for the request fields."


class MlflowRoute(APIRoute):
    """A route whose errors are MLflow error bodies (never a 500 for a client's mistake)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except MlflowError as error:
                return error_response(error.error_code, str(error))
            except RequestValidationError as error:
                return error_response("INVALID_PARAMETER_VALUE", _validation_message(error))
            except MloopError as error:
                code = error_code(error)
                if code == "INTERNAL_ERROR":
                    log.error("MLflow API %s failed: %s", request.url.path, error)
                return error_response(code, str(error))

        return answer


Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]  # MLflow's int64 fields


class ErrorBody(BaseModel):
    """MLflow's error answer."""

    error_code: str
    message: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "INVALID_PARAMETER_VALUE or RESOURCE_ALREADY_EXISTS"),
        (403, "PERMISSION_DENIED"),
        (404, "RESOURCE_DOES_NOT_EXIST or ENDPOINT_NOT_FOUND"),
    )
}


class Body(BaseModel):
    """A request body: MLflow's clients send fields this server does not read; they pass."""

    model_config = ConfigDict(extra="ignore")


def number(value: float) -> float | str:
    """A double as MLflow's JSON writes it: NaN and infinities as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    """The offset a page token carries (0 without a token)."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"page_token {token!r} is not a token this server gave; pass the next_page_token "
            "of the previous page unchanged, or none for the first page.",
        )
    return offset


def check_max_results(value: int | None, default: int, limit: int, field: str) -> int:
    """``max_results`` within ``1..limit`` (``default`` when not given)."""
    if value is None:
        return default
    if value < 1 or value > limit:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"{field} {value} is out of range; give a number from 1 to {limit}.",
        )
    return value


def required(value: Any, field: str) -> Any:
    """``value`` when given, else MLflow's error for a missing field."""
    if value is None or value == "":
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", f"missing value for required parameter {field!r}."
        )
    return value
