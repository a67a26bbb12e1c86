"""The LLM gateway's usage ledger: one row per call, for cost and token accounting."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base, BigId


class GatewayUsage(Base):
    __tablename__ = "gateway_usage"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger)  # ms since the epoch
    route: Mapped[str] = mapped_column(String(256))
    served_route: Mapped[str] = mapped_column(String(256))
    deployment: Mapped[str] = mapped_column(String(512))
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(256))
    user: Mapped[str] = mapped_column(String(256))
    workspace: Mapped[str] = mapped_column(String(256))
    key_id: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(32))
    stream: Mapped[bool] = mapped_column(Boolean)
    cache_hit: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(32))
    http_status: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_micro_usd: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index(None, "workspace", "at"),
        Index(None, "user", "at"),
        Index(None, "route", "at"),
    )
