"""Tables of monitoring and the closed loop: references, windows, alerts, policy decisions.

A model version's reference profile and each window's profile live as JSON artifacts;
the rows here say where, and keep the numbers queries and the CLI need (drift share,
metrics, alert states) without opening them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mloop.store.schema import Base, BigId


class MonitoringReference(Base):
    """The reference profile of a model version (its training data, predictions, labels)."""

    __tablename__ = "monitoring_references"

    model_name: Mapped[str] = mapped_column(String(256), primary_key=True)
    model_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    artifact_key: Mapped[str] = mapped_column(String(1000))
    num_rows: Mapped[int] = mapped_column(BigInteger)
    spec: Mapped[str] = mapped_column(Text)  # JSON: columns, task, label, importance, slices
    created_at: Mapped[int] = mapped_column(BigInteger)


class MonitoringWindow(Base):
    """One window of a model's prediction log: its profile, drift, quality and metrics."""

    __tablename__ = "monitoring_windows"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[int] = mapped_column(BigInteger)
    end_at: Mapped[int] = mapped_column(BigInteger)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    labelled_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    profile_key: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    dataset_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    dataset_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    dataset_drifted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    drift: Mapped[str] = mapped_column(Text)  # JSON of the DriftReport
    metrics: Mapped[str] = mapped_column(Text)  # JSON: accuracy metrics, KPIs, latency
    quality: Mapped[str] = mapped_column(Text)  # JSON: data suite verdict, findings
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("model_name", "model_version", "start_at", "end_at"),
        Index(None, "model_name", "start_at"),
    )


class MonitoringAlert(Base):
    """The state of one alert rule for one model: firing (deduplicated) or resolved."""

    __tablename__ = "monitoring_alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule: Mapped[str] = mapped_column(String(256))
    model_name: Mapped[str] = mapped_column(String(256))
    metric: Mapped[str] = mapped_column(String(256))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # firing | resolved
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    fired_at: Mapped[int] = mapped_column(BigInteger, index=True)
    last_at: Mapped[int] = mapped_column(BigInteger)
    resolved_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    window_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index(None, "model_name", "rule", "status"),)


class MonitoringAlertEvent(Base):
    """The history of an alert: fired, repeated (not re-sent), resolved; and who was told."""

    __tablename__ = "monitoring_alert_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        ForeignKey("monitoring_alerts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    event: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    window_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    notified: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON per notifier


class LoopDecision(Base):
    """One pass of a retraining policy: trigger, training, evaluation, gate, promotion."""

    __tablename__ = "loop_decisions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    policy: Mapped[str] = mapped_column(String(256))
    model_name: Mapped[str] = mapped_column(String(256))
    alias: Mapped[str] = mapped_column(String(256))
    trigger: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    champion_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    candidate_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    window_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[str] = mapped_column(Text)  # JSON: evidence, metrics, gate result
    decided_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index(None, "policy", "created_at"),
        Index(None, "model_name", "status"),
    )


class LoopPolicyState(Base):
    """What a policy remembers between steps (the last schedule tick it acted on)."""

    __tablename__ = "loop_policy_state"

    policy: Mapped[str] = mapped_column(String(256), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    last_step_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_tick_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[int] = mapped_column(BigInteger)
