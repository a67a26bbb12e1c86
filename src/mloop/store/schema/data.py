"""Tables of mloop.data: datasets and their versions, check suites, validation results."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base


class Dataset(Base):
    """A named dataset; its content lives in numbered versions."""

    __tablename__ = "datasets"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger, index=True)


class DatasetVersionRow(Base):
    """One immutable content of a dataset: a Parquet file under the artifact root."""

    __tablename__ = "dataset_versions"

    name: Mapped[str] = mapped_column(
        ForeignKey("datasets.name", ondelete="CASCADE"), primary_key=True, index=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    artifact_key: Mapped[str] = mapped_column(String(1000))
    schema_json: Mapped[str] = mapped_column(Text)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    num_bytes: Mapped[int] = mapped_column(BigInteger)
    profile_json: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (UniqueConstraint("name", "sha256"),)


class DataSuite(Base):
    """A version of a suite of data checks (its definition as JSON)."""

    __tablename__ = "data_suites"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (UniqueConstraint("name", "sha256"),)


class QualityResult(Base):
    """The outcome of validating data with a suite version, linked to the dataset version."""

    __tablename__ = "data_quality_results"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    suite_name: Mapped[str] = mapped_column(String(256))
    suite_version: Mapped[int] = mapped_column(Integer)
    dataset_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    dataset_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    success: Mapped[bool] = mapped_column(Boolean)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    failed_errors: Mapped[int] = mapped_column(Integer)
    failed_warnings: Mapped[int] = mapped_column(Integer)
    quarantined_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantine_dataset: Mapped[str | None] = mapped_column(String(300), nullable=True)
    duration_s: Mapped[float] = mapped_column(Float)
    details: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["suite_name", "suite_version"],
            ["data_suites.name", "data_suites.version"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["dataset_name", "dataset_version"],
            ["dataset_versions.name", "dataset_versions.version"],
            ondelete="CASCADE",
        ),
        Index(None, "suite_name", "suite_version"),
        Index(None, "dataset_name", "dataset_version"),
    )
