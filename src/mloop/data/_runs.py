"""Lineage between dataset versions and the tracked run that reads or writes them.

Tracking sits below data in the layers; when no run is active (or tracking is absent)
nothing is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mloop.data.datasets import DatasetVersion


def _active_run_id() -> str | None:
    try:
        from mloop.tracking import active_run
    except ImportError:  # tracking not installed in this build
        return None
    run = active_run()
    return None if run is None else str(run.info.run_id)


def record_read(version: DatasetVersion) -> None:
    """``dataset_version --input_of--> run`` for the active run, if any."""
    run_id = _active_run_id()
    if run_id is None:
        return
    from mloop.store import get_store
    from mloop.store.lineage import Node, add_edge

    add_edge(get_store(), version.lineage_node(), "input_of", Node("run", run_id))


def record_production(version: DatasetVersion) -> None:
    """``run --produced--> dataset_version`` for the active run, if any."""
    run_id = _active_run_id()
    if run_id is None:
        return
    from mloop.store import get_store
    from mloop.store.lineage import Node, add_edge

    add_edge(get_store(), Node("run", run_id), "produced", version.lineage_node())
