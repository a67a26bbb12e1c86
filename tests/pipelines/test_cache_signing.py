"""Signed cache entries: a tampered, unsigned or foreign entry is refused, never loaded."""

from __future__ import annotations

import json
import logging
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from mloop.core.errors import IntegrityError, NotFound
from mloop.pipelines import Pipeline, node, run, signing
from mloop.pipelines import cache as node_cache
from mloop.store import get_artifacts, get_store
from mloop.store.schema.pipelines import PipelineCacheEntry as Row

CALLS: list[int] = []


def _pair(rows: int) -> tuple[int, int]:
    CALLS.append(rows)
    return rows, rows * 2


def _total(pair: tuple[int, int]) -> int:
    return pair[0] + pair[1]


def _pipe() -> Pipeline:
    return Pipeline([node(_pair, "params:rows", "pair"), node(_total, "pair", "total")])


class _Payload:
    """Unpickling it creates ``marker``: proof that the bytes were loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _row(node_name: str) -> tuple[str, dict[str, Any]]:
    with get_store().read() as conn:
        key, outputs = conn.execute(select(Row.key, Row.outputs).where(Row.node == node_name)).one()
    return key, json.loads(outputs)


def _rewrite(key: str, outputs: dict[str, Any]) -> None:
    store = get_store()
    store.transaction(
        lambda conn: conn.execute(
            update(Row).where(Row.key == key).values(outputs=json.dumps(outputs))
        )
    )


@pytest.fixture(autouse=True)
def _calls() -> None:
    CALLS.clear()


def test_cache_entries_are_signed_and_a_hit_is_still_a_hit() -> None:
    run(_pipe(), params={"rows": 3})
    _, outputs = _row("_pair")
    assert outputs["pair"]["artifact"].endswith(".pkl")  # a tuple: pickle, so it must be signed
    assert len(outputs["pair"]["signature"]) == 64
    second = run(_pipe(), params={"rows": 3})
    assert {s.status for s in second.nodes.values()} == {"cached"}
    assert second.outputs["total"] == 9
    assert CALLS == [3]


def test_a_swapped_artifact_is_refused_and_its_payload_never_runs(
    mloop_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run(_pipe(), params={"rows": 3})
    key, outputs = _row("_pair")
    marker = mloop_home / "payload-ran"
    # someone with write access to both stores puts a payload in, with a fresh checksum
    evil = get_artifacts().put_content_addressed(pickle.dumps(_Payload(marker)), ".pkl")
    outputs["pair"]["artifact"] = evil.key  # the old signature stays
    _rewrite(key, outputs)
    with caplog.at_level(logging.WARNING, logger="mloop"):
        again = run(_pipe(), params={"rows": 3})
    assert not marker.exists()
    assert again.nodes["_pair"].status == "ran"
    assert again.outputs["total"] == 9
    assert CALLS == [3, 3]
    assert "refused, not loaded" in caplog.text and "does not match" in caplog.text
    # the node's new output replaced the bad entry: the next run is a hit again
    assert {s.status for s in run(_pipe(), params={"rows": 3}).nodes.values()} == {"cached"}


def test_an_unsigned_entry_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    run(_pipe(), params={"rows": 4})
    key, outputs = _row("_pair")
    del outputs["pair"]["signature"]  # as written before entries were signed
    _rewrite(key, outputs)
    with caplog.at_level(logging.WARNING, logger="mloop"):
        again = run(_pipe(), params={"rows": 4})
    assert again.nodes["_pair"].status == "ran"
    assert "is not signed" in caplog.text


def test_an_entry_signed_with_another_deployments_key_is_refused(mloop_home: Path) -> None:
    run(_pipe(), params={"rows": 5})
    key_file = mloop_home / ".mloop" / signing.KEY_FILE
    key_file.write_text("ab" * 32 + "\n")
    signing._keys.clear()  # a new process would read the new key
    again = run(_pipe(), params={"rows": 5})
    assert again.nodes["_pair"].status == "ran"
    assert CALLS == [5, 5]


def test_bytes_replaced_under_a_signed_name_are_refused_when_read(mloop_home: Path) -> None:
    run(_pipe(), params={"rows": 6})
    _, outputs = _row("_pair")
    artifact = outputs["pair"]["artifact"]
    marker = mloop_home / "payload-ran"
    path = Path(get_artifacts().root) / artifact
    path.write_bytes(pickle.dumps(_Payload(marker)))  # same name, other bytes
    with pytest.raises(IntegrityError):
        node_cache.load_value(artifact)
    assert not marker.exists()


def test_a_partial_run_does_not_read_a_refused_upstream_entry(mloop_home: Path) -> None:
    run(_pipe(), params={"rows": 7})
    key, outputs = _row("_pair")
    marker = mloop_home / "payload-ran"
    evil = get_artifacts().put_content_addressed(pickle.dumps(_Payload(marker)), ".pkl")
    outputs["pair"]["artifact"] = evil.key
    _rewrite(key, outputs)
    with pytest.raises(NotFound, match="no stored output matches"):
        run(_pipe(), params={"rows": 7}, from_nodes=["_total"])
    assert not marker.exists()


def test_the_signing_key_lives_in_the_home_readable_by_its_owner_only(mloop_home: Path) -> None:
    run(_pipe(), params={"rows": 2})
    key_file = mloop_home / ".mloop" / signing.KEY_FILE
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    artifacts = Path(get_artifacts().root)
    assert not any(p.name == signing.KEY_FILE for p in artifacts.rglob("*"))


def test_a_damaged_key_file_is_a_clear_error(mloop_home: Path) -> None:
    from mloop.core.errors import ConfigError

    key_file = mloop_home / ".mloop" / signing.KEY_FILE
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("not a key")
    with pytest.raises(ConfigError, match="delete the file"):
        signing.signing_key()
