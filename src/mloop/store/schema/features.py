"""Tables of the feature store: versioned definitions, training sets and materializations."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base


class FeatureDefinition(Base):
    """One version of an entity, feature view, on-demand view or service (JSON + its hash)."""

    __tablename__ = "feature_definitions"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(256), default="")

    __table_args__ = (UniqueConstraint("kind", "name", "hash"),)


class FeatureHead(Base):
    """The version of each definition that is in force (the last one applied)."""

    __tablename__ = "feature_heads"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class TrainingSetRecord(Base):
    """A training set that was built: its features, view versions and entity frame summary."""

    __tablename__ = "feature_training_sets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)
    created_by: Mapped[str] = mapped_column(String(256), default="")
    features: Mapped[str] = mapped_column(Text)
    views: Mapped[str] = mapped_column(Text)
    entity_columns: Mapped[str] = mapped_column(Text)
    timestamp_column: Mapped[str | None] = mapped_column(String(256), nullable=True)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    entity_sha256: Mapped[str] = mapped_column(String(64))
    artifact_key: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class Materialization(Base):
    """One copy of a feature view's latest rows in ``[start_at, end_at)`` to the online store."""

    __tablename__ = "feature_materializations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    view: Mapped[str] = mapped_column(String(256))
    version: Mapped[int] = mapped_column(Integer)
    start_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end_at: Mapped[int] = mapped_column(BigInteger)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    online: Mapped[str] = mapped_column(String(1000))
    profile: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index(None, "view", "version", "end_at"), Index(None, "started_at"))
