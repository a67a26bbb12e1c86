"""Workspace scoping of requests: objects of another workspace look like missing ones.

Answering 404 (not 403) for another workspace's experiment does not reveal that it exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from mloop.core.errors import InvalidInput, NotFound
from mloop.core.principal import Principal
from mloop.server.auth import owners
from mloop.server.auth.accounts import DEFAULT_WORKSPACE
from mloop.store import get_store
from mloop.store.schema.auth import AuthOwner
from mloop.store.schema.tracking import Run as RunRow

INT64 = 2**63 - 1
EXPERIMENT = "experiment"
MODEL = "registered_model"


def check_object(principal: Principal, kind: str, object_id: str, label: str) -> None:
    if owners.workspace_of(get_store(), kind, object_id) != principal.workspace:
        raise NotFound(
            f"{label} {object_id!r} does not exist in workspace {principal.workspace!r}."
        )


def check_experiment(principal: Principal, experiment_id: str) -> None:
    text = str(experiment_id)
    if not text.isdigit() or int(text) > INT64:
        raise InvalidInput(f"experiment id {text!r} is not a number; ids are like '1'.")
    check_object(principal, EXPERIMENT, text, "experiment")


def check_model(principal: Principal, name: str) -> None:
    check_object(principal, MODEL, name, "registered model")


def check_runs(principal: Principal, run_ids: Iterable[str]) -> None:
    """Every run exists and its experiment is in the principal's workspace."""
    wanted = sorted(set(run_ids))
    if not wanted:
        return
    with get_store().read() as conn:
        found = dict(
            conn.execute(
                select(RunRow.run_id, RunRow.experiment_id).where(RunRow.run_id.in_(wanted))
            ).all()
        )
        missing = [run_id for run_id in wanted if run_id not in found]
        if missing:
            raise NotFound(f"run {missing[0]!r} does not exist.")
        experiment_ids = sorted({str(e) for e in found.values()})
        owned = dict(
            conn.execute(
                select(AuthOwner.object_id, AuthOwner.workspace).where(
                    AuthOwner.object_kind == EXPERIMENT,
                    AuthOwner.object_id.in_(experiment_ids),
                )
            ).all()
        )
    for run_id, experiment_id in found.items():
        if owned.get(str(experiment_id), DEFAULT_WORKSPACE) != principal.workspace:
            raise NotFound(f"run {run_id!r} does not exist in workspace {principal.workspace!r}.")


def visible_experiments(principal: Principal, experiment_ids: Iterable[str]) -> list[str]:
    elsewhere = owners.owned_elsewhere(get_store(), EXPERIMENT, principal.workspace)
    if principal.workspace != DEFAULT_WORKSPACE:
        # only objects assigned to this workspace are in it
        with get_store().read() as conn:
            mine = set(
                conn.execute(
                    select(AuthOwner.object_id).where(
                        AuthOwner.object_kind == EXPERIMENT,
                        AuthOwner.workspace == principal.workspace,
                    )
                ).scalars()
            )
        return [str(e) for e in experiment_ids if str(e) in mine]
    return [str(e) for e in experiment_ids if str(e) not in elsewhere]
