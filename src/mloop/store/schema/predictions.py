"""Tables of the prediction log: one row per Parquet segment, and ground-truth feedback.

The logged rows themselves live in Parquet segments under the artifact root
(``predictions/<model>/<date>/<segment>.parquet``); a segment row says which model and
version wrote it, how many rows it holds and the time range they cover, so a reader opens
only the segments of the period it asks for.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base


class PredictionSegment(Base):
    """One Parquet file of logged predictions of one model version."""

    __tablename__ = "prediction_segments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    min_ts: Mapped[int] = mapped_column(BigInteger)  # epoch milliseconds (UTC)
    max_ts: Mapped[int] = mapped_column(BigInteger)
    artifact_key: Mapped[str] = mapped_column(String(1000))
    num_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (
        Index(None, "model_name", "min_ts"),
        Index(None, "model_name", "max_ts"),
    )


class PredictionFeedback(Base):
    """The ground-truth label of one logged request (upserted: the last label wins)."""

    __tablename__ = "prediction_feedback"

    model_name: Mapped[str] = mapped_column(String(256), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    label_number: Mapped[float | None] = mapped_column(Float, nullable=True)
    label_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    ts: Mapped[int] = mapped_column(BigInteger)  # when the label was observed (epoch ms)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "model_name", "ts"),)
