"""One contract for every online store, run on SQLite and on Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mloop import features as fs
from mloop.core.errors import ConfigError, StoreUnavailable


@pytest.fixture
def online(online_url: str) -> Iterator[fs.OnlineStore]:
    store = fs.open_online_store(online_url)
    yield store
    store.close()


def test_a_written_row_is_read_back(online: fs.OnlineStore) -> None:
    assert online.write("v/1", [("a", 10, b"[1.5]"), ("b", 20, b"[2.5]")]) == 2
    [found] = online.read([("v/1", ["b", "a", "missing"])])
    assert found == [(20, b"[2.5]"), (10, b"[1.5]"), None]


def test_an_older_row_never_replaces_a_newer_one(online: fs.OnlineStore) -> None:
    online.write("v/1", [("a", 10, b"[1]")])
    online.write("v/1", [("a", 5, b"[0]")])
    online.write("v/1", [("a", 10, b"[2]")])  # same time: the later write wins
    assert online.read([("v/1", ["a"])]) == [[(10, b"[2]")]]
    online.write("v/1", [("a", 11, b"[3]")])
    assert online.read([("v/1", ["a"])]) == [[(11, b"[3]")]]


def test_namespaces_are_isolated_and_one_read_serves_several(online: fs.OnlineStore) -> None:
    online.write("v/1", [("a", 1, b"[1]")])
    online.write("v/2", [("a", 2, b"[2]")])
    online.write("w/1", [("a", 3, b"[3]")])
    assert online.read([("v/1", ["a"]), ("v/2", ["a"]), ("w/1", ["a", "a"])]) == [
        [(1, b"[1]")],
        [(2, b"[2]")],
        [(3, b"[3]"), (3, b"[3]")],
    ]
    online.delete("v/1")
    assert online.read([("v/1", ["a"]), ("v/2", ["a"])]) == [[None], [(2, b"[2]")]]


def test_large_batches_are_written_and_read_whole(online: fs.OnlineStore) -> None:
    rows = [(f"k{i}", i, f"[{i}]".encode()) for i in range(2500)]
    assert online.write("big/1", rows) == 2500
    keys = [f"k{i}" for i in range(0, 2500, 3)]
    [found] = online.read([("big/1", keys)])
    assert found == [(int(k[1:]), f"[{k[1:]}]".encode()) for k in keys]


def test_keys_with_separators_and_unicode_are_distinct(online: fs.OnlineStore) -> None:
    online.write("v/1", [("a\x1fb", 1, b"[1]"), ("a", 1, b"[2]"), ("é:*", 1, b"[3]")])
    assert online.read([("v/1", ["a\x1fb", "a", "é:*"])]) == [
        [(1, b"[1]"), (1, b"[2]"), (1, b"[3]")]
    ]


def test_an_unknown_online_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="MLOOP_ONLINE_URL"):
        fs.open_online_store("memcached://localhost")


def test_an_unreachable_redis_is_a_clear_error() -> None:
    store = fs.open_online_store("redis://127.0.0.1:1/0")
    with pytest.raises(StoreUnavailable, match="online store"):
        store.read([("v/1", ["a"])])


def test_times_before_1970_and_the_epoch_itself_order_correctly(online: fs.OnlineStore) -> None:
    online.write("v/1", [("a", -5, b"[1]")])
    online.write("v/1", [("a", -10, b"[0]")])
    assert online.read([("v/1", ["a"])]) == [[(-5, b"[1]")]]
    online.write("v/1", [("a", 0, b"[2]")])
    assert online.read([("v/1", ["a"])]) == [[(0, b"[2]")]]
    assert online.read([("v/1", [])]) == [[]]
