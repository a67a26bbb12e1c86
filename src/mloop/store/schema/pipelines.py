"""Tables of mloop.pipelines: the node cache, schedules and triggers (queued pipeline runs)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base


class PipelineCacheEntry(Base):
    """The outputs a node produced for one cache key (code + inputs + params)."""

    __tablename__ = "pipeline_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(256))
    node: Mapped[str] = mapped_column(String(512))
    # {output name: {"artifact": key in the artifact store, "sha256": content hash}}
    outputs: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (Index(None, "pipeline", "node"),)


class PipelineSchedule(Base):
    """A cron schedule that queues a pipeline run when due."""

    __tablename__ = "pipeline_schedules"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(256))
    cron: Mapped[str] = mapped_column(String(128))
    params: Mapped[str] = mapped_column(Text, default="{}")
    env: Mapped[str | None] = mapped_column(String(128), nullable=True)
    runner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_fire_at: Mapped[int] = mapped_column(BigInteger, index=True)
    last_fired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(256), default="")


class PipelineTrigger(Base):
    """A request to run a pipeline: from a schedule, the API (monitoring) or the CLI.

    ``dedupe`` is unique: a schedule's firing for one due time is queued once, however
    many schedulers run or restart.
    """

    __tablename__ = "pipeline_triggers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(256))
    params: Mapped[str] = mapped_column(Text, default="{}")
    env: Mapped[str | None] = mapped_column(String(128), nullable=True)
    runner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(256), default="api")
    schedule: Mapped[str | None] = mapped_column(
        ForeignKey("pipeline_schedules.name", ondelete="SET NULL"), nullable=True, index=True
    )
    dedupe: Mapped[str | None] = mapped_column(String(300), nullable=True, unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    started_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
