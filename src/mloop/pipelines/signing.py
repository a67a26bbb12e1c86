"""Signatures of node-cache entries: HMAC-SHA256 with the deployment's key.

The key is 32 random bytes in ``<mloop home>/cache-signing.key`` (created on first use,
readable by its owner only), never in the metadata store or the artifact store that hold
the cache. Whoever can write those two can still not make this deployment load a value
it did not write itself. Hosts that should share cached outputs share the key file.
See docs/decisions/0131-pipelines-cache-formats-and-signatures.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import threading
from pathlib import Path

from mloop.core.config import get_settings
from mloop.core.errors import ConfigError

__all__ = ["KEY_FILE", "sign", "signing_key", "valid"]

KEY_FILE = "cache-signing.key"
_keys: dict[Path, bytes] = {}
_lock = threading.Lock()


def signing_key() -> bytes:
    """The key of this deployment (the mloop home's), created once, atomically."""
    path = get_settings().home / KEY_FILE
    found = _keys.get(path)
    if found is not None:
        return found
    with _lock:
        if not path.exists():
            _create(path)
        text = path.read_text().strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 32:
            raise ConfigError(
                f"the cache signing key {path} is not 64 hexadecimal characters; delete the "
                "file (a new key is made on the next run, and the cache is built again)."
            )
        _keys[path] = key
        return key


def _create(path: Path) -> None:
    """Write a new key to a private temporary file and link it into place (first one wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as stream:
            stream.write(os.urandom(32).hex() + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _message(cache_key: str, output: str, artifact: str, sha256: str) -> bytes:
    return json.dumps([cache_key, output, artifact, sha256]).encode()


def sign(cache_key: str, output: str, artifact: str, sha256: str) -> str:
    """The signature of one cached output: it binds the cache key, the name and the bytes.

    The artifact key is content-addressed (it names the sha256 of the stored bytes, which
    every read checks), so signing it signs the bytes.
    """
    message = _message(cache_key, output, artifact, sha256)
    return hmac.new(signing_key(), message, hashlib.sha256).hexdigest()


def valid(signature: str, cache_key: str, output: str, artifact: str, sha256: str) -> bool:
    """Whether ``signature`` is this deployment's for that output (constant-time compare)."""
    if not signature:
        return False
    return hmac.compare_digest(signature, sign(cache_key, output, artifact, sha256))
