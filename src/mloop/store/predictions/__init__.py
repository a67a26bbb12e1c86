"""The prediction log: every served prediction, in Parquet segments, and ground-truth feedback.

Serving writes with a :class:`PredictionLogWriter` (buffered, written by a background
thread in batches); monitoring reads with :func:`read_predictions` and
:func:`read_feedback`. A segment is one Parquet file
``predictions/<model>/<YYYY-MM-DD>/<segment id>.parquet`` under the artifact root, plus
one row in ``prediction_segments`` (model, version, rows, time range, artifact key), so a
reader opens only the segments that overlap its period.

>>> writer = PredictionLogWriter(flush_rows=5_000, flush_seconds=2.0)
>>> writer.log("delays", "3", ["r1"], inputs, outputs, latency_ms=[1.2])
>>> writer.close()                                  # flushes what is pending
>>> read_predictions("delays").columns[:5].tolist()
['request_id', 'ts', 'model_name', 'model_version', 'latency_ms']
>>> record_feedback("delays", ["r1"], [1])           # labels may come days later
>>> feedback_status("delays").unmatched              # labels of ids no server logged
0
"""

from __future__ import annotations

from mloop.store.predictions.feedback import (
    correct_feedback,
    delete_feedback,
    list_feedback,
    read_feedback,
    record_feedback,
)
from mloop.store.predictions.matching import (
    GRACE_SECONDS,
    STATES,
    FeedbackStatus,
    feedback_status,
)
from mloop.store.predictions.reader import BASE_COLUMNS, Segment, list_segments, read_predictions
from mloop.store.predictions.writer import PredictionLogWriter

__all__ = [
    "BASE_COLUMNS",
    "GRACE_SECONDS",
    "STATES",
    "FeedbackStatus",
    "PredictionLogWriter",
    "Segment",
    "correct_feedback",
    "delete_feedback",
    "feedback_status",
    "list_feedback",
    "list_segments",
    "read_feedback",
    "read_predictions",
    "record_feedback",
]
