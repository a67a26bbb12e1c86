"""Lineage walks and the audit log, on both backends."""

from __future__ import annotations

import pytest

from mloop.core.errors import InvalidInput
from mloop.store import audit, get_store, lineage
from mloop.store.lineage import Node


def test_upstream_answers_what_data_trained_the_deployed_model(db_url: str) -> None:
    store = get_store()
    lineage.add_edges(
        store,
        [
            (
                Node("dataset_version", "weather@2"),
                "source_of",
                Node("feature_view_version", "weather/1"),
                None,
            ),
            (
                Node("feature_view_version", "weather/1"),
                "feature_of",
                Node("training_set", "ts1"),
                None,
            ),
            (Node("training_set", "ts1"), "input_of", Node("run", "r1"), {"context": "training"}),
            (Node("run", "r1"), "produced", Node("model_version", "delay/1"), None),
            (Node("model_version", "delay/1"), "deployed_as", Node("deployment", "prod"), None),
            (Node("dataset_version", "other@1"), "input_of", Node("run", "r2"), None),
        ],
    )
    edges = lineage.upstream(store, Node("deployment", "prod"))
    sources = {str(e.source) for e in edges}
    assert "dataset_version:weather@2" in sources
    assert "dataset_version:other@1" not in sources
    assert [e.depth for e in edges] == sorted(e.depth for e in edges)
    assert max(e.depth for e in edges) == 5
    down = lineage.downstream(store, Node("dataset_version", "weather@2"))
    assert str(down[-1].target) == "deployment:prod"
    assert next(e for e in edges if e.relation == "input_of").properties == {"context": "training"}


def test_the_same_edge_is_stored_once(db_url: str) -> None:
    store = get_store()
    for _ in range(3):
        lineage.add_edge(store, Node("run", "a"), "produced", Node("model_version", "m/1"))
    assert len(lineage.downstream(store, Node("run", "a"))) == 1


def test_unknown_lineage_kinds_are_refused() -> None:
    with pytest.raises(InvalidInput, match="dataset_version"):
        lineage.add_edge(get_store(), Node("datasets", "x"), "r", Node("run", "y"))


def test_audit_entries_are_listed_newest_first(db_url: str) -> None:
    store = get_store()
    for version in (1, 2, 3):
        store.transaction(
            lambda conn, v=version: audit.record(
                conn,
                actor="ana",
                action="alias.set",
                object_kind="registered_model",
                object_id="delay",
                from_value=v - 1 or None,
                to_value=v,
                reason=f"release {v}",
            )
        )
    entries = audit.entries(store, object_kind="registered_model", object_id="delay")
    assert [e.to_value for e in entries] == ["3", "2", "1"]
    assert entries[0].reason == "release 3"
    assert entries[-1].from_value is None
