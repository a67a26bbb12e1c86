"""``/api/2.0/mlflow/runs/search``: MLflow's run search on mloop's search, with page tokens.

MLflow's filter and order-by syntax is mloop's (:mod:`mloop.tracking.filter` parses both,
MLflow's system tag names included: decision 0111), so a filter passes through unchanged
and a syntax error comes back as ``INVALID_PARAMETER_VALUE`` naming the position. A page
token carries the offset of the next page; a page is cut from the first
``offset + max_results`` matches in order.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import Field

from mloop.server.mlflow_api import entities
from mloop.server.mlflow_api.experiments import resolve
from mloop.server.mlflow_api.protocol import (
    ERRORS,
    Body,
    Int64,
    MlflowError,
    MlflowRoute,
    check_max_results,
    decode_token,
    encode_token,
)
from mloop.store import get_store
from mloop.tracking.search import search, view_type

MAX_RESULTS = 50_000  # MLflow's server refuses more in one page, and so does this one


class SearchRuns(Body):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    run_view_type: str | int | None = None
    max_results: Int64 | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


def create_router(read: Any, write: Any) -> APIRouter:
    router = APIRouter(route_class=MlflowRoute, responses=ERRORS, tags=["MLflow: runs"])

    @router.post("/api/2.0/mlflow/runs/search", dependencies=[Depends(read)])
    def search_runs(body: SearchRuns) -> dict[str, Any]:
        store = get_store()
        if not body.experiment_ids:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                "field 'experiment_ids' is empty; give the ids of the experiments to search.",
            )
        ids = [int(resolve(store, i).experiment_id) for i in body.experiment_ids]
        limit = check_max_results(body.max_results, 1000, MAX_RESULTS, "max_results")
        offset = decode_token(body.page_token)
        found = search(
            store,
            ids,
            body.filter or None,
            body.order_by or None,
            offset + limit + 1,
            view_type(body.run_view_type or "ACTIVE_ONLY"),
        )
        answer: dict[str, Any] = {"runs": entities.runs(store, found[offset : offset + limit])}
        if len(found) > offset + limit:
            answer["next_page_token"] = encode_token(offset + limit)
        return answer

    return router
