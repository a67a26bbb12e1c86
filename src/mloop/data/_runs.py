"""Lineage between dataset versions and the tracked run that reads or writes them.

Tracking sits below data in the layers; when no run is active nothing is recorded.
"""

from __future__ import annotations

from mloop.store import get_store
from mloop.store.lineage import Node, add_edge
from mloop.tracking import active_run


def _active_run_id() -> str | None:
    run = active_run()
    return None if run is None else str(run.info.run_id)


def record_read(version: Node) -> None:
    """``dataset_version --input_of--> run`` for the active run, if any."""
    run_id = _active_run_id()
    if run_id is not None:
        add_edge(get_store(), version, "input_of", Node("run", run_id))


def record_production(version: Node) -> None:
    """``run --produced--> dataset_version`` for the active run, if any."""
    run_id = _active_run_id()
    if run_id is not None:
        add_edge(get_store(), Node("run", run_id), "produced", version)
