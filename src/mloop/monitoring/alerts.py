"""Alert rules on window metrics, with de-duplicated firing and a kept history.

A rule fires when its condition holds in ``k`` of the last ``n`` windows of a model.
While it keeps holding, later evaluations are recorded as ``repeated`` without notifying
again; when it stops holding the alert is ``resolved`` (and that is notified too).

>>> rules = [
...     AlertRule("feature drift", "drift.share", 0.3, k=2, n=3),
...     AlertRule("accuracy drop", "performance_drop.accuracy", 0.05, severity="critical"),
...     AlertRule("slow", "latency.p95", 50.0),
... ]
>>> Monitor("delays", alerts=rules, notifiers=[LogNotifier(), FileNotifier("alerts.jsonl")])
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.clock import ms_to_datetime, now_ms
from mloop.core.errors import InvalidInput, did_you_mean
from mloop.core.ids import new_id
from mloop.monitoring._names import check_model
from mloop.monitoring.notifiers import notify
from mloop.monitoring.window import METRIC_PREFIXES
from mloop.store import get_store
from mloop.store.schema.monitoring import MonitoringAlert, MonitoringAlertEvent

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from mloop.monitoring.window import Window

__all__ = ["Alert", "AlertRule", "alert_history", "evaluate_rules", "list_alerts"]

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class AlertRule:
    """``metric op threshold`` in at least ``k`` of the last ``n`` windows.

    ``metric`` names a window number (:data:`mloop.monitoring.window.METRIC_PREFIXES`):
    ``drift.share``, ``drift.temp`` (severity: 1 at the threshold), ``drift.temp.psi``,
    ``performance.roc_auc``, ``performance_drop.accuracy``
    (fall against the reference), ``kpi.<name>``, ``quality.failed_checks``,
    ``latency.p95``... ``notifiers`` are added to the monitor's for this rule.
    """

    name: str
    metric: str
    threshold: float
    op: str = ">="
    k: int = 1
    n: int = 1
    severity: str = "warning"
    notifiers: tuple[Any, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput(f"alert rule name {self.name!r} must be a non-empty string.")
        if self.op not in OPS:
            raise InvalidInput(
                f"alert rule {self.name!r}: op {self.op!r} is not one of {', '.join(OPS)}."
            )
        if (
            isinstance(self.threshold, bool)
            or not isinstance(self.threshold, int | float)
            or not math.isfinite(self.threshold)
        ):
            raise InvalidInput(
                f"alert rule {self.name!r}: threshold {self.threshold!r} must be a finite number."
            )
        if not (isinstance(self.k, int) and isinstance(self.n, int) and 1 <= self.k <= self.n):
            raise InvalidInput(
                f"alert rule {self.name!r}: k={self.k!r}, n={self.n!r} must satisfy 1 <= k <= n "
                "(fire when the condition holds in k of the last n windows)."
            )
        if self.severity not in SEVERITIES:
            raise InvalidInput(
                f"alert rule {self.name!r}: severity {self.severity!r} is not one of "
                f"{', '.join(SEVERITIES)}." + did_you_mean(str(self.severity), SEVERITIES)
            )
        _check_metric(self.name, self.metric)

    def holds(self, window: Window) -> bool:
        """Whether the condition holds in ``window`` (an unknown value does not hold)."""
        value = window.value(self.metric)
        return value is not None and not math.isnan(value) and OPS[self.op](value, self.threshold)

    def describe(self) -> str:
        window = "window" if self.n == 1 else f"{self.k} of the last {self.n} windows"
        return f"{self.metric} {self.op} {self.threshold:g} in {window}"


def _check_metric(rule: str, metric: Any) -> None:
    known = {p.split(".<")[0] for p in METRIC_PREFIXES}
    fixed = {p for p in METRIC_PREFIXES if "<" not in p}
    open_heads = {p.split(".<")[0] for p in METRIC_PREFIXES if "<" in p}
    if not isinstance(metric, str) or not metric:
        raise InvalidInput(
            f"alert rule {rule!r}: metric {metric!r} must be a string such as 'drift.share'."
        )
    head, _, rest = metric.partition(".")
    if metric in fixed or (head in open_heads and rest):
        return
    raise InvalidInput(
        f"alert rule {rule!r}: metric {metric!r} is not known."
        + did_you_mean(metric, sorted(known | fixed))
        + f" Use one of: {', '.join(METRIC_PREFIXES)}."
    )


@dataclass(frozen=True)
class Alert:
    """The state of a rule for a model (one row per firing episode)."""

    id: str
    rule: str
    model_name: str
    metric: str
    severity: str
    status: str
    value: float | None
    threshold: float
    message: str
    fired_at: int
    last_at: int
    resolved_at: int | None
    occurrences: int
    window_id: str | None


def evaluate_rules(
    model: str,
    rules: Sequence[AlertRule],
    windows: Sequence[Window],
    notifiers: Sequence[Any] = (),
) -> list[dict[str, Any]]:
    """Judge every rule on the newest windows (oldest first); fire, repeat or resolve.

    Returns the notifications sent (fired and resolved alerts).
    """
    from sqlalchemy import select

    if not windows or not rules:
        return []
    store = get_store()
    latest = windows[-1]
    with store.read() as conn:
        firing = {
            row.rule: row
            for row in conn.execute(
                select(MonitoringAlert).where(
                    MonitoringAlert.model_name == model, MonitoringAlert.status == "firing"
                )
            ).all()
        }
    sent: list[dict[str, Any]] = []
    writes: list[tuple[str, dict[str, Any], dict[str, str] | None]] = []
    at = now_ms()
    for rule in rules:
        recent = list(windows[-rule.n :])
        held = sum(1 for w in recent if rule.holds(w))
        value = latest.value(rule.metric)
        open_alert = firing.get(rule.name)
        if held >= rule.k:
            if open_alert is not None:
                writes.append(("repeated", {"alert": open_alert, "value": value}, None))
                continue
            alert_id = new_id()
            note = _notification(
                alert_id, rule, model, "firing", value, held, len(recent), latest, at
            )
            outcomes = notify([*notifiers, *rule.notifiers], note)
            writes.append(
                (
                    "fired",
                    {"alert_id": alert_id, "rule": rule, "value": value, "note": note},
                    outcomes,
                )
            )
            sent.append(note)
        elif open_alert is not None:
            note = _notification(
                open_alert.id, rule, model, "resolved", value, held, len(recent), latest, at
            )
            outcomes = notify([*notifiers, *rule.notifiers], note)
            writes.append(("resolved", {"alert": open_alert, "value": value}, outcomes))
            sent.append(note)

    def work(conn: Connection) -> None:
        for event, data, outcomes in writes:
            _write(conn, event, data, outcomes, model, latest, at)

    if writes:
        store.transaction(work)
    return sent


def _notification(
    alert_id: str,
    rule: AlertRule,
    model: str,
    status: str,
    value: float | None,
    held: int,
    checked: int,
    window: Window,
    at: int,
) -> dict[str, Any]:
    shown = "unknown" if value is None else f"{value:.4g}"
    start = ms_to_datetime(window.start).strftime("%Y-%m-%d %H:%M")
    end = ms_to_datetime(window.end).strftime("%Y-%m-%d %H:%M")
    verb = "FIRING" if status == "firing" else "resolved"
    message = (
        f"[{rule.severity}] {verb}: {rule.name} on model {model}: {rule.describe()} "
        f"(held in {held} of the last {checked} windows; latest value {shown}, "
        f"window {start} → {end} UTC)"
    )
    return {
        "alert_id": alert_id,
        "rule": rule.name,
        "model": model,
        "metric": rule.metric,
        "op": rule.op,
        "threshold": rule.threshold,
        "value": value,
        "status": status,
        "severity": rule.severity,
        "held": held,
        "k": rule.k,
        "n": rule.n,
        "window_id": window.id,
        "window_start": window.start,
        "window_end": window.end,
        "at": at,
        "message": message,
    }


def _write(
    conn: Connection,
    event: str,
    data: dict[str, Any],
    outcomes: dict[str, str] | None,
    model: str,
    window: Window,
    at: int,
) -> None:
    from sqlalchemy import insert, update

    value = data.get("value")
    if event == "fired":
        rule: AlertRule = data["rule"]
        alert_id = data["alert_id"]
        conn.execute(
            insert(MonitoringAlert),
            {
                "id": alert_id,
                "rule": rule.name,
                "model_name": model,
                "metric": rule.metric,
                "severity": rule.severity,
                "status": "firing",
                "value": value,
                "threshold": float(rule.threshold),
                "message": data["note"]["message"],
                "fired_at": at,
                "last_at": at,
                "resolved_at": None,
                "occurrences": 1,
                "window_id": window.id,
            },
        )
    else:
        alert = data["alert"]
        alert_id = alert.id
        values: dict[str, Any] = {"last_at": at, "value": value, "window_id": window.id}
        if event == "repeated":
            values["occurrences"] = alert.occurrences + 1
        else:
            values.update(status="resolved", resolved_at=at)
        conn.execute(update(MonitoringAlert).where(MonitoringAlert.id == alert_id).values(**values))
    conn.execute(
        insert(MonitoringAlertEvent),
        {
            "alert_id": alert_id,
            "at": at,
            "event": event,
            "value": value,
            "window_id": window.id,
            "notified": json.dumps(outcomes) if outcomes is not None else None,
        },
    )


def list_alerts(
    model: str | None = None, status: str | None = None, limit: int = 100
) -> list[Alert]:
    """Alerts, newest first, optionally of one model and/or status (``firing``, ``resolved``)."""
    from sqlalchemy import select

    if status is not None and status not in ("firing", "resolved"):
        raise InvalidInput(f"alert status {status!r} is not 'firing' or 'resolved'.")
    query = select(MonitoringAlert).order_by(MonitoringAlert.fired_at.desc()).limit(limit)
    if model is not None:
        query = query.where(MonitoringAlert.model_name == model)
    if status is not None:
        query = query.where(MonitoringAlert.status == status)
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    if not rows and model is not None:
        check_model(model)  # nothing found: an unregistered name is a typo, not "no alerts"
    return [
        Alert(
            id=r.id,
            rule=r.rule,
            model_name=r.model_name,
            metric=r.metric,
            severity=r.severity,
            status=r.status,
            value=r.value,
            threshold=r.threshold,
            message=r.message,
            fired_at=r.fired_at,
            last_at=r.last_at,
            resolved_at=r.resolved_at,
            occurrences=r.occurrences,
            window_id=r.window_id,
        )
        for r in rows
    ]


def alert_history(
    model: str | None = None, alert_id: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Alert events (fired, repeated, resolved) newest first, with notification outcomes."""
    from sqlalchemy import select

    event = MonitoringAlertEvent
    query = (
        select(
            event.alert_id,
            event.at,
            event.event,
            event.value,
            event.window_id,
            event.notified,
            MonitoringAlert.rule,
            MonitoringAlert.model_name,
        )
        .join(MonitoringAlert, MonitoringAlert.id == event.alert_id)
        .order_by(event.id.desc())
        .limit(limit)
    )
    if model is not None:
        query = query.where(MonitoringAlert.model_name == model)
    if alert_id is not None:
        query = query.where(event.alert_id == alert_id)
    with get_store().read() as conn:
        rows = conn.execute(query).all()
    if not rows and model is not None:
        check_model(model)  # nothing found: an unregistered name is a typo, not "no events"
    return [
        {
            "alert_id": row.alert_id,
            "rule": row.rule,
            "model": row.model_name,
            "at": row.at,
            "event": row.event,
            "value": row.value,
            "window_id": row.window_id,
            "notified": json.loads(row.notified) if row.notified else None,
        }
        for row in rows
    ]
