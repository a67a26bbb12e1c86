"""From messages to records: decode the JSON, find each record's identity, or say why not.

A message holds one JSON object (a record) or a list of them. A record's identity is its
``key`` field (``request_id`` by default): the idempotency key of its action, its request
id in the prediction log and the id its delayed label is joined on. A record without one
gets an id derived from its content (so a redelivered copy keeps the same id). What cannot
become a record is a :class:`DeadLetter` with the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mloop.streams.protocol import Message

MAX_KEY_CHARS = 128  # a request id of the prediction log (mloop.serving) is at most this long


@dataclass
class DeadLetter:
    """A message or record that was not processed, and why (``reason``: a short code)."""

    reason: str
    detail: str
    body: bytes | None = None  # the whole message, when the message itself is bad
    record: dict[str, Any] | None = None  # the record, when one record of a message is bad
    key: str | None = None

    def idempotency_key(self) -> str:
        """The same for every delivery of the same bad message or record."""
        if self.key is not None:
            return f"{self.key}:{self.reason}"
        return f"{_digest(self.body or b'')}:{self.reason}"

    def to_json(self, source: str, received_at_ms: int) -> bytes:
        import orjson

        doc: dict[str, Any] = {
            "reason": self.reason,
            "detail": self.detail,
            "source": source,
            "received_at_ms": received_at_ms,
        }
        if self.key is not None:
            doc["id"] = self.key
        if self.record is not None:
            doc["record"] = self.record
        if self.body is not None:
            doc["message"] = self.body.decode("utf-8", errors="replace")
        return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY, default=str)


@dataclass
class Decoded:
    """The records of a batch of messages (with their keys) and what had to be set aside."""

    records: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    duplicates: int = 0  # records whose key came twice in the batch (one is processed)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def decode(
    messages: Sequence[Message], key: str = "request_id", max_bytes: int = 1 << 20
) -> Decoded:
    """The records of ``messages``; the key field is taken out of each record.

    >>> decode([Message(b'{"request_id": "a1", "amount": 3.5}')]).keys
    ['a1']
    """
    import orjson

    out = Decoded()
    seen: set[str] = set()
    for message in messages:
        body = message.body
        if len(body) > max_bytes:
            out.dead.append(
                DeadLetter(
                    "oversized",
                    f"the message has {len(body):,} bytes, over the limit of {max_bytes:,}; "
                    "send fewer records per message or raise --max-message-kb.",
                    body=body,
                )
            )
            continue
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            out.dead.append(
                DeadLetter("unparsable", f"the message is not valid JSON ({exc}).", body)
            )
            continue
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, dict) for item in items):
            out.dead.append(
                DeadLetter(
                    "not_a_record",
                    "a message must be a JSON object (one record) or a non-empty list of "
                    f"objects; got {type(value).__name__}"
                    + (" holding other values" if isinstance(value, list) and items else "")
                    + ".",
                    body,
                )
            )
            continue
        for item in items:
            record = dict(item)
            raw = record.pop(key, None)
            if raw is None:
                ident = "sha-" + _digest(orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
            elif isinstance(raw, (str, int)) and not isinstance(raw, bool):
                ident = str(raw)
            else:
                out.dead.append(
                    DeadLetter(
                        "bad_key",
                        f"field {key!r} is {raw!r} ({type(raw).__name__}); it must be a string "
                        "or an integer that identifies the record.",
                        record=item,
                    )
                )
                continue
            if not ident or len(ident) > MAX_KEY_CHARS:
                out.dead.append(
                    DeadLetter(
                        "bad_key",
                        f"field {key!r} has {len(ident)} characters; give 1 to {MAX_KEY_CHARS}.",
                        record=item,
                    )
                )
                continue
            if ident in seen:
                out.duplicates += 1
                continue
            seen.add(ident)
            out.records.append(record)
            out.keys.append(ident)
    return out
