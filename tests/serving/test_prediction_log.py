"""The prediction log: buffered Parquet segments, period reads, feedback upserts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from mloop.core.errors import InvalidInput
from mloop.store.predictions import (
    PredictionLogWriter,
    list_segments,
    read_feedback,
    read_predictions,
    record_feedback,
)

DAY1 = datetime(2026, 1, 1, 12, tzinfo=UTC)
DAY2 = datetime(2026, 1, 2, 12, tzinfo=UTC)


def _batch(n: int, start: int = 0) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    ids = [f"r{i}" for i in range(start, start + n)]
    inputs = pd.DataFrame(
        {"distance": np.arange(start, start + n, dtype="float64"), "carrier": "UA"}
    )
    outputs = pd.DataFrame({"prediction": np.arange(n) % 2, "proba": np.linspace(0, 1, n)})
    return ids, inputs, outputs


def test_logged_rows_read_back_with_prefixed_columns_and_utc_times(db_url: str) -> None:
    ids, inputs, outputs = _batch(5)
    features = pd.DataFrame({"temp": [10.0, 11.0, 12.0, 13.0, None]})
    with PredictionLogWriter(flush_rows=1000, flush_seconds=60) as writer:
        writer.log("delays", 3, ids, inputs, outputs, np.full(5, 2.5), features=features, ts=DAY1)
    frame = read_predictions("delays")
    assert list(frame.columns) == [
        "request_id", "ts", "model_name", "model_version", "latency_ms",
        "input.distance", "input.carrier", "feature.temp", "output.prediction", "output.proba",
    ]  # fmt: skip
    assert frame["request_id"].tolist() == ids
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame["ts"].iloc[0] == pd.Timestamp(DAY1)
    assert frame["model_version"].unique().tolist() == ["3"]
    assert frame["input.distance"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert frame["feature.temp"].isna().tolist() == [False] * 4 + [True]
    assert frame["latency_ms"].tolist() == [2.5] * 5


def test_rows_are_split_into_one_segment_per_day_and_periods_read_only_theirs() -> None:
    ids, inputs, outputs = _batch(4)
    ts = [DAY1, DAY1, DAY2, DAY2]
    writer = PredictionLogWriter(flush_rows=1000, flush_seconds=60)
    writer.log("delays", "1", ids, inputs, outputs, 1.0, ts=ts)
    assert writer.flush() == 4
    segments = list_segments("delays")
    assert sorted(s.artifact_key.split("/")[2] for s in segments) == ["2026-01-01", "2026-01-02"]
    assert all(s.artifact_key.startswith("predictions/delays/") for s in segments)
    assert [s.rows for s in segments] == [2, 2]
    day2 = read_predictions("delays", start="2026-01-02", end="2026-01-03")
    assert day2["request_id"].tolist() == ["r2", "r3"]
    assert read_predictions("delays", start="2026-02-01").empty
    assert list(read_predictions("unknown").columns)[:2] == ["request_id", "ts"]


def test_versions_are_separate_segments_and_filter_on_read() -> None:
    writer = PredictionLogWriter(flush_rows=1000, flush_seconds=60)
    for version, start in (("1", 0), ("2", 10)):
        ids, inputs, outputs = _batch(3, start)
        writer.log("delays", version, ids, inputs, outputs, 1.0, ts=DAY1)
    writer.close()
    assert sorted(s.model_version for s in list_segments("delays")) == ["1", "2"]
    assert read_predictions("delays", version=2)["request_id"].tolist() == ["r10", "r11", "r12"]
    assert len(read_predictions("delays")) == 6


def test_background_thread_writes_when_flush_rows_are_pending() -> None:
    writer = PredictionLogWriter(flush_rows=10, flush_seconds=3600)
    ids, inputs, outputs = _batch(12)
    writer.log("delays", "1", ids, inputs, outputs, 1.0)
    import time

    deadline = time.monotonic() + 20
    while writer.written_rows < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writer.written_rows == 12
    assert writer.pending_rows == 0
    writer.close()


def test_segments_with_different_columns_are_read_together() -> None:
    writer = PredictionLogWriter(flush_rows=1000, flush_seconds=60)
    ids, inputs, outputs = _batch(2)
    writer.log("m", "1", ids, inputs, outputs, 1.0, ts=DAY1)
    writer.flush()
    writer.log("m", "1", ["x"], pd.DataFrame({"distance": [9.0]}), outputs.head(1), 1.0, ts=DAY1)
    writer.close()
    frame = read_predictions("m")
    assert len(frame) == 3
    assert frame.set_index("request_id").loc["x", "input.carrier"] is None or pd.isna(
        frame.set_index("request_id").loc["x", "input.carrier"]
    )


def test_mismatched_row_counts_are_refused_with_a_clear_message() -> None:
    writer = PredictionLogWriter()
    ids, inputs, outputs = _batch(3)
    with pytest.raises(InvalidInput, match="outputs has 2 rows but 3 request ids"):
        writer.log("m", "1", ids, inputs, outputs.head(2), 1.0)


def test_feedback_is_upserted_by_request_id_and_read_by_period(db_url: str) -> None:
    assert record_feedback("delays", ["r1", "r2"], [0, 1], ts=DAY1) == 2
    record_feedback("delays", "r1", 1, ts=DAY2)  # corrected later
    frame = read_feedback("delays")
    assert frame.set_index("request_id")["label"].to_dict() == {"r1": 1, "r2": 1}
    assert read_feedback("delays", start=DAY2)["request_id"].tolist() == ["r1"]
    assert str(read_feedback("delays")["ts"].dt.tz) == "UTC"
    record_feedback("other", ["a", "b"], ["late", "on_time"])
    assert read_feedback("other")["label"].tolist() == ["late", "on_time"]


def test_feedback_with_bad_labels_or_lengths_names_the_problem() -> None:
    with pytest.raises(InvalidInput, match="2 request ids but 1 labels"):
        record_feedback("m", ["a", "b"], [1])
    with pytest.raises(InvalidInput, match="label is NaN"):
        record_feedback("m", ["a"], [float("nan")])
    with pytest.raises(InvalidInput, match="request id ''"):
        record_feedback("m", [""], [1])


def test_many_serving_batches_are_joined_per_column_with_their_values_kept() -> None:
    """The serving path logs numpy columns per batch with one time and latency each: a
    flush joins them per column; object columns whose batches differ in kind become text."""
    writer = PredictionLogWriter(flush_rows=10_000, flush_seconds=60)
    ms = int(DAY1.timestamp() * 1000)
    for b in range(50):
        ids = [f"b{b}-{i}" for i in range(3)]
        carrier = np.array(["UA", None, "DL"] if b % 2 else [7, 8, 9], dtype=object)
        inputs = {"distance": np.arange(3, dtype="float64") + b, "carrier": carrier}
        outputs = {"proba": np.full(3, b / 100)}
        writer.log("m", "1", ids, inputs, outputs, float(b), ts=ms + b)
    assert writer.flush() == 150
    frame = read_predictions("m").sort_values("ts", kind="stable").reset_index(drop=True)
    assert frame["request_id"].tolist()[:4] == ["b0-0", "b0-1", "b0-2", "b1-0"]
    assert frame["latency_ms"].tolist()[::3] == [float(b) for b in range(50)]
    assert frame["ts"].dt.as_unit("ms").astype("int64").tolist()[::3] == [ms + b for b in range(50)]
    assert frame["input.distance"].tolist()[3:6] == [1.0, 2.0, 3.0]
    carriers = frame["input.carrier"].tolist()[:6]
    assert carriers[:4] == ["7", "8", "9", "UA"] and pd.isna(carriers[4]) and carriers[5] == "DL"
    assert frame["output.proba"].tolist()[-1] == 0.49


def test_text_columns_logged_as_lists_gather_in_one_block_with_their_values() -> None:
    """The server logs text fields as the lists the request held (numbers as arrays): those
    batches gather in one block too, one segment per flush, missing and mixed values kept."""
    writer = PredictionLogWriter(flush_rows=10_000, flush_seconds=60)
    ms = int(DAY1.timestamp() * 1000)
    for b in range(30):
        carrier: list[object] = ["UA", None] if b % 3 else [7, "DL"]
        inputs = {"distance": np.array([b, b + 0.5]), "carrier": carrier}
        writer.log("m", "1", [f"t{b}-0", f"t{b}-1"], inputs, {"p": np.ones(2)}, 1.0, ts=ms + b)
    assert len(writer._pending) == 1  # one block
    assert writer.flush() == 60
    assert [s.rows for s in list_segments("m")] == [60]
    frame = read_predictions("m").sort_values("ts", kind="stable").reset_index(drop=True)
    assert frame["input.carrier"].tolist()[:3] == ["7", "DL", "UA"]
    assert pd.isna(frame["input.carrier"][3]) and frame["input.distance"].tolist()[2:4] == [1, 1.5]


def test_latency_per_row_gathers_in_a_block_and_reads_back_per_row() -> None:
    """The server logs each row's own latency (requests of one batch arrived at different
    times): those batches gather in one block too, apart from batches timed as a whole."""
    writer = PredictionLogWriter(flush_rows=10_000, flush_seconds=60)
    ms = int(DAY1.timestamp() * 1000)
    for b in range(10):
        latency = np.array([b + 0.25, b + 0.5])
        writer.log("m", "1", [f"l{b}-0", f"l{b}-1"], {"x": np.array([b, b])}, {}, latency, ts=ms)
    writer.log("m", "1", ["whole-0", "whole-1"], {"x": np.array([0, 0])}, {}, 9.0, ts=ms)
    assert [type(p).__name__ for p in writer._pending] == ["Block", "Block"]
    with pytest.raises(InvalidInput, match=r"latency_ms has 3 values .* for 2 request ids"):
        writer.log("m", "1", ["a", "b"], {"x": np.array([1, 2])}, {}, np.ones(3))
    assert writer.flush() == 22
    frame = read_predictions("m").set_index("request_id")["latency_ms"]
    assert frame["l0-0"] == 0.25 and frame["l9-1"] == 9.5 and frame["whole-1"] == 9.0


def test_interleaved_versions_and_kinds_of_batches_each_read_back_whole() -> None:
    """A canary logs two versions in turn, and a graph may log DataFrames: each version's
    numpy batches gather in one block (one segment per flush), the rest as before."""
    writer = PredictionLogWriter(flush_rows=10_000, flush_seconds=60)
    ms = int(DAY1.timestamp() * 1000)
    for b in range(20):
        version = "1" if b % 2 else "2"
        ids = [f"v{version}-{b}-{i}" for i in range(2)]
        writer.log(
            "m", version, ids, {"x": np.array([b, b])}, {"p": np.array([0.5, 0.5])}, 1.0, ts=ms
        )
    ids, inputs, outputs = _batch(3, start=100)
    writer.log("m", "1", ids, inputs, outputs, 2.0, ts=DAY1)
    assert writer.flush() == 43
    assert sorted((s.model_version, s.rows) for s in list_segments("m")) == [
        ("1", 3), ("1", 20), ("2", 20)
    ]  # fmt: skip
    version1 = read_predictions("m", version=1).set_index("request_id")
    assert len(version1) == 23
    assert version1.loc["v1-19-1", "input.x"] == 19
    assert version1.loc["r101", "input.distance"] == 101.0
    assert pd.isna(version1.loc["r101", "input.x"]) and pd.isna(
        version1.loc["v1-1-0", "input.carrier"]
    )


def test_over_the_pending_limit_the_oldest_batches_are_dropped_and_counted() -> None:
    writer = PredictionLogWriter(flush_rows=1_000, flush_seconds=60, max_pending_rows=5)
    ids, inputs, outputs = _batch(3)
    writer.log("m", "1", ids, inputs, outputs, 1.0, ts=DAY1)  # a DataFrame batch
    ms = int(DAY1.timestamp() * 1000)
    for b in range(2):  # numpy batches: one block, never dropped while it is the only one
        writer.log("m", "1", [f"n{b}-{i}" for i in range(3)], {"x": np.arange(3)}, {}, 1.0, ts=ms)
    assert writer.dropped_rows == 3
    assert writer.flush() == 6
    assert sorted(read_predictions("m")["request_id"])[:2] == ["n0-0", "n0-1"]
