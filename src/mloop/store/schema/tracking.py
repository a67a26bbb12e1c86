"""Tables of experiment tracking: experiments, runs, params, metrics, tags."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base, BigId

KEY = 250


class Experiment(Base):
    __tablename__ = "experiments"

    experiment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    artifact_location: Mapped[str] = mapped_column(String(1000))
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ExperimentTag(Base):
    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Run(Base):
    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.experiment_id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), index=True)
    start_time: Mapped[int] = mapped_column(BigInteger, index=True)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    heartbeat_at: Mapped[int] = mapped_column(BigInteger)
    user: Mapped[str] = mapped_column(String(256))
    artifact_uri: Mapped[str] = mapped_column(String(1000))
    parent_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")

    __table_args__ = (Index(None, "experiment_id", "start_time"),)


# The values search reads for every selected run are stored in their primary key's order
# (SQLite: WITHOUT ROWID), so reading a run's values is one b-tree range, not an index
# range plus one table lookup per value (decision 0011; core_0004).
CLUSTERED = {"sqlite_with_rowid": False}


class Param(Base):
    __tablename__ = "params"
    __table_args__ = CLUSTERED

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True, index=True)
    value: Mapped[str] = mapped_column(Text)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = CLUSTERED

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True, index=True)
    value: Mapped[str] = mapped_column(Text)


class MetricChunk(Base):
    """Metric history in chunks: the values one flush wrote for one (run, metric).

    One row per (run, key) per flush instead of one per value, so logging 10,000 values
    of 100 metrics writes 100 rows. ``steps`` and ``timestamps`` are packed little-endian
    int64 arrays, ``values`` float64 (NaN and infinities kept as they are); entry ``i`` of
    each is one logged value, in logging order.
    """

    __tablename__ = "metric_chunks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY))
    count: Mapped[int] = mapped_column(Integer)
    steps: Mapped[bytes] = mapped_column(LargeBinary)
    timestamps: Mapped[bytes] = mapped_column(LargeBinary)
    values: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index(None, "run_id", "key"),)


class LatestMetric(Base):
    """The value at the highest step of each (run, metric): what search filters and sorts on."""

    __tablename__ = "latest_metrics"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "key", "value"), CLUSTERED)
