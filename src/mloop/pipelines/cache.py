"""The node cache: outputs stored in the artifact store under a key of code, inputs and params.

A node's cache key is the sha256 of its code fingerprint, the content hashes of its
inputs (parameters included) and the names of its outputs. Outputs are written to the
artifact store in a safe format per kind of value (:mod:`mloop.pipelines.cache_format`:
Arrow, JSON, numpy, skops; pickle only for what none of them keeps), content-addressed
(``objects/..``), so equal outputs are stored once; the index lives in the
``pipeline_cache`` table. Every indexed output carries an HMAC signature made with the
deployment's key (:mod:`mloop.pipelines.signing`): an unsigned or tampered entry is
refused, never loaded, and its node runs again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from mloop.core.clock import now_ms
from mloop.core.log import get_logger
from mloop.pipelines import signing
from mloop.pipelines.cache_format import decode, dumps, encode, format_of
from mloop.store import get_artifacts, get_store
from mloop.store.schema.pipelines import PipelineCacheEntry as Row

__all__ = [
    "CachedOutput",
    "cache_key",
    "clear",
    "entries_of",
    "hash_value",
    "load_value",
    "lookup",
    "record",
    "refusal",
    "verified",
]

log = get_logger("mloop.pipelines")


@dataclass(frozen=True)
class CachedOutput:
    """A stored output: its artifact key, content hash and signature (once indexed)."""

    artifact: str
    sha256: str
    signature: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CachedOutput:
        return cls(data["artifact"], data["sha256"], str(data.get("signature") or ""))


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
    """Write ``value`` into the artifact store in its format (content-addressed, unsigned).

    The driver signs the output when it indexes it (:func:`record`), so worker processes
    and Ray nodes never hold the signing key.
    """
    suffix, data = encode(value, what)
    info = get_artifacts().put_content_addressed(data, suffix)
    return CachedOutput(info.key, hash_value(value))


def load_value(artifact: str) -> Any:
    """A cached output back from the artifact store (its bytes checked against their name).

    Only for outputs of a verified entry (:func:`refusal` said None) or written by this run.
    """
    return decode(format_of(artifact), get_artifacts().get_bytes(artifact))


def refusal(key: str, outputs: dict[str, CachedOutput]) -> str | None:
    """Why the cache entry ``key`` must not be used (unsigned, tampered), or None when valid."""
    for name, stored in outputs.items():
        if not stored.signature:
            return f"output {name!r} ({stored.artifact}) is not signed"
        if not format_of(stored.artifact):
            return f"output {name!r} ({stored.artifact}) has an unknown format"
        if not signing.valid(stored.signature, key, name, stored.artifact, stored.sha256):
            return (
                f"the signature of output {name!r} ({stored.artifact}) does not match this "
                "deployment's key (tampered with, or written with another key)"
            )
    return None


def verified(key: str, outputs: dict[str, CachedOutput] | None) -> dict[str, CachedOutput] | None:
    """``outputs`` when every one is validly signed; else None, with a warning that says why."""
    if outputs is None:
        return None
    reason = refusal(key, outputs)
    if reason is None:
        return outputs
    log.warning(
        "cache entry %s refused, not loaded: %s. Its node runs again and replaces it; if "
        "nobody here changed the cache, check who can write the metadata and artifact stores.",
        key[:16],
        reason,
    )
    return None


def lookup(keys: list[str]) -> dict[str, dict[str, CachedOutput]]:
    """The cached outputs of each key found, ``{key: {output: CachedOutput}}``."""
    if not keys:
        return {}
    from sqlalchemy import select

    found: dict[str, dict[str, CachedOutput]] = {}
    with get_store().read() as conn:
        for start in range(0, len(keys), 500):
            rows = conn.execute(
                select(Row.key, Row.outputs).where(Row.key.in_(keys[start : start + 500]))
            ).all()
            for key, outputs in rows:
                found[key] = {
                    name: CachedOutput.from_dict(o) for name, o in json.loads(outputs).items()
                }
    return found


def entries_of(pipeline: str, limit: int = 20_000) -> dict[str, dict[str, CachedOutput]]:
    """The newest cached outputs recorded by ``pipeline`` (one query, to plan a run)."""
    from sqlalchemy import select

    with get_store().read() as conn:
        rows = conn.execute(
            select(Row.key, Row.outputs)
            .where(Row.pipeline == pipeline)
            .order_by(Row.created_at.desc())
            .limit(limit)
        ).all()
    return {
        key: {name: CachedOutput.from_dict(o) for name, o in json.loads(outputs).items()}
        for key, outputs in rows
    }


def keys_of_others(pipeline: str, limit: int = 50_000) -> set[str] | None:
    """The cache keys recorded by other pipelines (None when there are over ``limit``)."""
    from sqlalchemy import select

    with get_store().read() as conn:
        keys = conn.execute(
            select(Row.key).where(Row.pipeline != pipeline).limit(limit + 1)
        ).scalars()
        found = set(keys)
    return None if len(found) > limit else found


def record(entries: list[dict[str, Any]]) -> None:
    """Sign and store index rows ``{key, pipeline, node, outputs: {name: CachedOutput}, run_id, seconds}``."""
    if not entries:
        return

    at = now_ms()
    rows = [
        {
            "key": e["key"],
            "pipeline": e["pipeline"],
            "node": e["node"],
            "outputs": json.dumps(
                {
                    n: {
                        "artifact": o.artifact,
                        "sha256": o.sha256,
                        "signature": signing.sign(e["key"], n, o.artifact, o.sha256),
                    }
                    for n, o in e["outputs"].items()
                }
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

    query = delete(Row)
    if pipeline:
        query = query.where(Row.pipeline == pipeline)
    if node:
        query = query.where(Row.node == node)
    return int(get_store().transaction(lambda conn: conn.execute(query).rowcount))
