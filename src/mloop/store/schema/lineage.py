"""The one lineage edge table every part of mloop writes to."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base, BigId


class LineageEdge(Base):
    """``from`` --relation--> ``to``, e.g. dataset_version --trained--> run."""

    __tablename__ = "lineage_edges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_kind: Mapped[str] = mapped_column(String(64))
    from_id: Mapped[str] = mapped_column(String(512))
    relation: Mapped[str] = mapped_column(String(64))
    to_kind: Mapped[str] = mapped_column(String(64))
    to_id: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[int] = mapped_column(BigInteger)
    properties: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("from_kind", "from_id", "relation", "to_kind", "to_id"),
        Index(None, "to_kind", "to_id"),
    )
