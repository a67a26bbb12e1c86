"""Which labels have met their prediction: feedback matched against the prediction log.

A label is stored whatever its request id, because it may arrive before the prediction it
labels is in the log (a server flushes its log every few seconds, and another replica may
have served the request). It is **matched** once a logged prediction has its request id,
**pending** while it is younger than ``grace_seconds`` and still unmatched, and
**unmatched** after that: a request id no server logged, counted and listed, never
silently dropped (``mloop feedback list delays --state unmatched``).

>>> feedback_status("delays")
FeedbackStatus(model_name='delays', labels=1200, matched=1198, pending=1, unmatched=1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from mloop.core.clock import now_ms
from mloop.store.predictions.reader import list_segments
from mloop.store.schema.predictions import PredictionFeedback

GRACE_SECONDS = 600.0  # far above a server's log flush interval (2 s by default)
STATES = ("matched", "pending", "unmatched")


@dataclass(frozen=True)
class FeedbackStatus:
    """How many stored labels of a model are matched, pending or unmatched."""

    model_name: str
    labels: int
    matched: int
    pending: int
    unmatched: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "labels": self.labels,
            "matched": self.matched,
            "pending": self.pending,
            "unmatched": self.unmatched,
        }


def logged_ids(model_name: str, request_ids: Sequence[str]) -> set[str]:
    """The ``request_ids`` that a logged prediction of ``model_name`` holds."""
    import duckdb

    from mloop.store import get_artifacts

    if not request_ids:
        return set()
    segments = list_segments(model_name)
    if not segments:
        return set()
    artifacts = get_artifacts()
    paths = [artifacts.uri(s.artifact_key) for s in segments]
    sql = (
        "SELECT DISTINCT request_id FROM read_parquet(?, union_by_name = true) "
        "WHERE request_id IN (SELECT UNNEST(?))"
    )
    with duckdb.connect() as conn:
        rows = conn.execute(sql, [paths, list(request_ids)]).fetchall()
    return {r[0] for r in rows}


def label_states(
    model_name: str, rows: Sequence[tuple[str, int]], grace_seconds: float = GRACE_SECONDS
) -> list[str]:
    """The state of each ``(request_id, updated_at ms)`` label of ``model_name``."""
    found = logged_ids(model_name, [r[0] for r in rows])
    cutoff = now_ms() - int(grace_seconds * 1000)
    return [
        "matched" if request_id in found else "pending" if updated > cutoff else "unmatched"
        for request_id, updated in rows
    ]


def feedback_status(model_name: str, grace_seconds: float = GRACE_SECONDS) -> FeedbackStatus:
    """Counts of the stored labels of ``model_name`` by state (what monitoring reads).

    One scan of the log's request ids: for a periodic check or a scrape, not per request.
    """
    from mloop.store import get_store

    query = select(PredictionFeedback.request_id, PredictionFeedback.updated_at).where(
        PredictionFeedback.model_name == str(model_name)
    )
    with get_store().read() as conn:
        rows = [(r[0], int(r[1])) for r in conn.execute(query).all()]
    states = label_states(model_name, rows, grace_seconds)
    return FeedbackStatus(
        str(model_name),
        len(rows),
        states.count("matched"),
        states.count("pending"),
        states.count("unmatched"),
    )
