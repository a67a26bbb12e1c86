"""The artifact store: atomic writes, checksums checked on read, no escape from the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.core.errors import IntegrityError, InvalidInput, NotFound
from mloop.store import get_artifacts


def test_bytes_round_trip_with_recorded_checksum(db_url: str) -> None:
    store = get_artifacts()
    info = store.put_bytes("runs/r1/model/model.bin", b"payload")
    assert info.size == 7
    assert store.info("runs/r1/model/model.bin").sha256 == info.sha256
    assert store.get_bytes("runs/r1/model/model.bin") == b"payload"
    assert store.list("runs/r1") == ["runs/r1/model/model.bin"]


def test_a_corrupted_file_is_refused_on_read(mloop_home: Path) -> None:
    store = get_artifacts()
    store.put_bytes("a/b.txt", b"original")
    path = store.local_path("a/b.txt")
    assert path is not None
    path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match="corrupt"):
        store.get_bytes("a/b.txt")
    with pytest.raises(IntegrityError):
        store.download("a/b.txt", mloop_home / "out.txt")
    assert not (mloop_home / "out.txt").exists()


@pytest.mark.parametrize(
    "key", ["../outside.txt", "a/../../x", "/etc/passwd", "C:/x", "a\\b", "", "s3://b/k"]
)
def test_paths_escaping_the_root_are_refused(key: str) -> None:
    with pytest.raises(InvalidInput):
        get_artifacts().put_bytes(key, b"x")


def test_writes_leave_no_temporary_files(mloop_home: Path) -> None:
    store = get_artifacts()
    for i in range(5):
        store.put_bytes("same/key.bin", bytes([i]) * 100)
    root = Path(store.root)
    assert [p.name for p in root.rglob("*") if p.is_file()] == ["key.bin"]
    assert store.get_bytes("same/key.bin") == bytes([4]) * 100


def test_files_and_folders_are_copied_with_checksums(mloop_home: Path) -> None:
    source = mloop_home / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("A")
    (source / "sub" / "b.txt").write_text("B")
    store = get_artifacts()
    infos = store.put_dir("run/files", source)
    assert [i.key for i in infos] == ["run/files/a.txt", "run/files/sub/b.txt"]
    out = store.download_dir("run/files", mloop_home / "copy")
    assert (out / "sub" / "b.txt").read_text() == "B"
    with pytest.raises(NotFound):
        store.put_file("x", mloop_home / "missing.txt")


def test_content_addressed_writes_are_deduplicated() -> None:
    store = get_artifacts()
    first = store.put_content_addressed(b"same bytes", ".bin")
    second = store.put_content_addressed(b"same bytes", ".bin")
    assert first == second
    assert first.key.startswith(f"objects/{first.sha256[:2]}/")


def test_a_content_addressed_object_is_checked_against_its_name(mloop_home: Path) -> None:
    """No ledger row is written for it: its key names its checksum, and reads check that."""
    store = get_artifacts()
    info = store.put_content_addressed(b"cached output", ".pkl")
    assert store.info(info.key) == info and store.get_bytes(info.key) == b"cached output"
    path = store.local_path(info.key)
    assert path is not None
    path.write_bytes(b"tampered output")
    with pytest.raises(IntegrityError, match="corrupt"):
        store.get_bytes(info.key)
    path.unlink()
    with pytest.raises(NotFound):
        store.info(info.key)


def test_any_fsspec_url_works_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_ARTIFACTS_URI", "memory://mloop-test-root")
    store = get_artifacts()
    assert not store.is_local
    store.put_bytes("k/v.txt", b"in memory")
    assert store.get_bytes("k/v.txt") == b"in memory"
    assert store.list("k") == ["k/v.txt"]
