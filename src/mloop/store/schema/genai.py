"""Tables of mloop.genai: prompt versions and aliases, stored spans, guardrail hit counts."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base


class Prompt(Base):
    __tablename__ = "genai_prompts"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    gated_aliases: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class PromptVersion(Base):
    __tablename__ = "genai_prompt_versions"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    template: Mapped[str] = mapped_column(Text)  # JSON: a string or a list of messages
    variables: Mapped[str] = mapped_column(Text)  # JSON list
    params: Mapped[str] = mapped_column(Text)  # JSON object
    tags: Mapped[str] = mapped_column(Text)  # JSON object
    description: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (ForeignKeyConstraint(["name"], ["genai_prompts.name"], ondelete="CASCADE"),)


class PromptAlias(Base):
    __tablename__ = "genai_prompt_aliases"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["genai_prompt_versions.name", "genai_prompt_versions.version"],
            ondelete="CASCADE",
        ),
        Index(None, "name", "version"),
    )


class Span(Base):
    """One span: from mloop's tracer or ingested over OTLP."""

    __tablename__ = "genai_spans"

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_span_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(256), default="")
    start_ns: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # ok, error, unset
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    operation: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(128), nullable=True)
    model: Mapped[str | None] = mapped_column(String(256), nullable=True)
    route: Mapped[str | None] = mapped_column(String(256), nullable=True)
    user: Mapped[str | None] = mapped_column(String(256), nullable=True)
    workspace: Mapped[str | None] = mapped_column(String(256), nullable=True)
    input_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    prompt_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    prompt_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attributes: Mapped[str] = mapped_column(Text)  # JSON object
    source: Mapped[str] = mapped_column(String(16))  # mloop or otlp

    __table_args__ = (
        Index(None, "start_ns"),
        Index(None, "route", "start_ns"),
        Index(None, "user", "start_ns"),
        Index(None, "status", "start_ns"),
        Index(None, "prompt_name", "prompt_version"),
    )


class GuardrailHit(Base):
    """How many times a guardrail fired, per route, user and action."""

    __tablename__ = "genai_guardrail_hits"

    guardrail: Mapped[str] = mapped_column(String(128), primary_key=True)
    route: Mapped[str] = mapped_column(String(256), primary_key=True)
    user: Mapped[str] = mapped_column(String(256), primary_key=True)
    action: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[int] = mapped_column(BigInteger)
