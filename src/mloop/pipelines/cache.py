"""The node cache: outputs stored in the artifact store under a key of code, inputs and params.

A node's cache key is the sha256 of its code fingerprint, the content hashes of its
inputs (parameters included) and the names of its outputs. Outputs are pickled into
the artifact store, content-addressed (``objects/..``), so equal outputs are stored once;
the index lives in the ``pipeline_cache`` table. The artifact store is the project's own:
the cache only reads back what the project's own runs wrote.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass
from typing import Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput

__all__ = [
    "CachedOutput",
    "cache_key",
    "clear",
    "entries_of",
    "hash_value",
    "load_value",
    "lookup",
    "record",
]

_PROTOCOL = 5


@dataclass(frozen=True)
class CachedOutput:
    """A stored output: its artifact key and content hash."""

    artifact: str
    sha256: str


def dumps(value: Any, what: str) -> bytes:
    try:
        return pickle.dumps(value, protocol=_PROTOCOL)
    except Exception as exc:
        raise InvalidInput(
            f"{what} cannot be stored in the cache ({type(value).__name__}: {exc}); return a "
            "picklable value, or run with cache=False (--no-cache)."
        ) from None


def hash_value(value: Any) -> str:
    """A content hash of a value (DataFrames by their values, others by their pickle)."""
    if isinstance(value, str | int | float | bool | type(None)):
        return hashlib.sha256(json.dumps(value).encode()).hexdigest()
    if type(value).__module__.startswith("pandas"):  # no pandas import for other values
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            return _frame_hash(value)
    return hashlib.sha256(dumps(value, "a value")).hexdigest()


def _frame_hash(value: Any) -> str:
    import pandas as pd

    digest = hashlib.sha256(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    digest.update(json.dumps([[str(c), str(t)] for c, t in value.dtypes.items()]).encode())
    return digest.hexdigest()


def params_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


def cache_key(code: str, inputs: list[tuple[str, str]], outputs: tuple[str, ...]) -> str:
    """sha256 of the code fingerprint, ``(input name, content hash)`` pairs and output names."""
    digest = hashlib.sha256(code.encode())
    for name, content in inputs:
        digest.update(f"\0{name}={content}".encode())
    digest.update(("\0->" + ",".join(outputs)).encode())
    return digest.hexdigest()


def store_value(value: Any, what: str) -> CachedOutput:
    """Pickle ``value`` into the artifact store (content-addressed)."""
    from mloop.store import get_artifacts

    data = dumps(value, what)
    info = get_artifacts().put_content_addressed(data, ".pkl")
    return CachedOutput(info.key, hash_value(value))


def load_value(artifact: str) -> Any:
    """A cached output back from the artifact store (checksum verified)."""
    from mloop.store import get_artifacts

    return pickle.loads(get_artifacts().get_bytes(artifact))


def lookup(keys: list[str]) -> dict[str, dict[str, CachedOutput]]:
    """The cached outputs of each key found, ``{key: {output: CachedOutput}}``."""
    if not keys:
        return {}
    from sqlalchemy import select

    from mloop.store import get_store
    from mloop.store.schema.pipelines import PipelineCacheEntry as Row

    found: dict[str, dict[str, CachedOutput]] = {}
    with get_store().read() as conn:
        for start in range(0, len(keys), 500):
            rows = conn.execute(
                select(Row.key, Row.outputs).where(Row.key.in_(keys[start : start + 500]))
            ).all()
            for key, outputs in rows:
                found[key] = {
                    name: CachedOutput(o["artifact"], o["sha256"])
                    for name, o in json.loads(outputs).items()
                }
    return found


def entries_of(pipeline: str, limit: int = 20_000) -> dict[str, dict[str, CachedOutput]]:
    """The newest cached outputs recorded by ``pipeline`` (one query, to plan a run)."""
    from sqlalchemy import select

    from mloop.store import get_store
    from mloop.store.schema.pipelines import PipelineCacheEntry as Row

    with get_store().read() as conn:
        rows = conn.execute(
            select(Row.key, Row.outputs)
            .where(Row.pipeline == pipeline)
            .order_by(Row.created_at.desc())
            .limit(limit)
        ).all()
    return {
        key: {
            name: CachedOutput(o["artifact"], o["sha256"])
            for name, o in json.loads(outputs).items()
        }
        for key, outputs in rows
    }


def keys_of_others(pipeline: str, limit: int = 50_000) -> set[str] | None:
    """The cache keys recorded by other pipelines (None when there are over ``limit``)."""
    from sqlalchemy import select

    from mloop.store import get_store
    from mloop.store.schema.pipelines import PipelineCacheEntry as Row

    with get_store().read() as conn:
        keys = conn.execute(
            select(Row.key).where(Row.pipeline != pipeline).limit(limit + 1)
        ).scalars()
        found = set(keys)
    return None if len(found) > limit else found


def record(entries: list[dict[str, Any]]) -> None:
    """Store index rows ``{key, pipeline, node, outputs: {name: CachedOutput}, run_id, seconds}``."""
    if not entries:
        return
    from mloop.store import get_store
    from mloop.store.schema.pipelines import PipelineCacheEntry as Row

    at = now_ms()
    rows = [
        {
            "key": e["key"],
            "pipeline": e["pipeline"],
            "node": e["node"],
            "outputs": json.dumps(
                {n: {"artifact": o.artifact, "sha256": o.sha256} for n, o in e["outputs"].items()}
            ),
            "run_id": e.get("run_id"),
            "seconds": float(e.get("seconds", 0.0)),
            "created_at": at,
        }
        for e in entries
    ]
    store = get_store()
    store.transaction(
        lambda conn: store.upsert(
            conn,
            Row.__table__,
            rows,
            keys=["key"],
            update=["outputs", "run_id", "seconds", "created_at"],
        )
    )


def clear(pipeline: str | None = None, node: str | None = None) -> int:
    """Forget cache entries (all, of a pipeline, or of one node); returns how many."""
    from sqlalchemy import delete

    from mloop.store import get_store
    from mloop.store.schema.pipelines import PipelineCacheEntry as Row

    query = delete(Row)
    if pipeline:
        query = query.where(Row.pipeline == pipeline)
    if node:
        query = query.where(Row.node == node)
    return int(get_store().transaction(lambda conn: conn.execute(query).rowcount))
