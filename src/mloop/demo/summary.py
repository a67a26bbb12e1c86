"""What a demo run did, read back from the stores: data issues, models, drift, alerts,
retraining decisions, hot swaps and accuracy before and after retraining.

:class:`DemoResult` is what :func:`mloop.demo.run_demo` returns (and logs as
``demo/summary.json`` on the demo's run); :func:`tables` renders it for the terminal.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.demo.scenario import FEATURES, MODEL

if TYPE_CHECKING:
    from rich.table import Table

    from mloop.demo.scenario import Scenario


@dataclass
class DemoResult:
    """The outcome of one ``mloop demo`` run (plain data, JSON-ready)."""

    deployment: str
    run_id: str
    scenario: str
    replayed: str
    seconds: float
    steps: dict[str, float]
    load_average: tuple[float, float, float]
    data: dict[str, Any]
    features: list[dict[str, Any]]
    pipeline: dict[str, Any]
    initial_version: int
    retraining_runs: list[dict[str, Any]]
    replay: dict[str, Any]
    online: dict[str, Any]
    windows: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    swaps: list[dict[str, Any]]
    accuracy: dict[str, Any]
    champion_version: int
    report: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect(
    scenario: Scenario, state: dict[str, Any], steps: dict[str, float], seconds: float
) -> DemoResult:
    """Read the run's outcomes from the stores and write the report."""
    from mloop.demo.report import write_report
    from mloop.registry import get_version

    windows = [_window(month, w) for month, w in state.get("windows", [])]
    decisions = [_decision(month, d) for month, d in state.get("decisions", [])]
    replay = state["replay"].stats.to_dict() if "replay" in state else {}
    alerts_log = state.get("alerts_log")
    replay["alerts_written"] = alerts_log.count if alerts_log is not None else 0
    reports: Path = state["reports"]
    result = DemoResult(
        deployment=state["deployment"],
        run_id=state.get("run_id", ""),
        scenario=scenario.name,
        replayed=scenario.describe(),
        seconds=round(seconds, 1),
        steps=steps,
        load_average=os.getloadavg(),
        data=state["quality"].to_dict() if "quality" in state else {},
        features=[
            {"kind": a.kind, "name": a.name, "version": a.version, "changed": a.changed}
            for a in state.get("features", [])
        ],
        pipeline=dict(state.get("pipeline", {})),
        initial_version=int(state.get("initial_version", 0)),
        retraining_runs=list(getattr(state.get("training"), "runs", [])),
        replay=replay,
        online=state["online"].stats() if "online" in state else {},
        windows=windows,
        alerts=[_alert(n) for n in state.get("notified", [])],
        decisions=decisions,
        swaps=list(state.get("swaps", [])),
        accuracy=_accuracy(state) if windows else {},
        champion_version=int(get_version(MODEL, "champion").version),
        files={
            "alerts": str(reports / "alerts.jsonl"),
            "late_flight_alerts": str(reports / "late-flight-alerts.jsonl"),
            "monitoring_report": str(reports / "monitoring.html"),
        },
    )
    monitor = state.get("monitor")
    if monitor is not None and windows:
        monitor.report(reports / "monitoring.html")
    result.report = str(write_report(result, reports / "demo-report.html"))
    (reports / "summary.json").write_text(_json(result.to_dict()))
    return result


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, default=str)


def _window(month: int, window: Any) -> dict[str, Any]:
    drift = window.drift
    drifted = sorted(name for name, f in drift.features.items() if f.drifted)
    severity = {
        name: _round(window.value(f"drift.{name}"))
        for name in ("temp", "dewp", "humid", "pressure", "dep_delay_mean_7d")
    }
    return {
        "id": window.id,
        "month": month,
        "version": int(window.model_version),
        "rows": window.num_rows,
        "labelled": window.labelled_rows,
        "drift_share": _round(drift.dataset.share),
        "drifted": drifted,
        "severity": severity,
        "roc_auc": _round(window.performance.get("roc_auc")),
        "roc_auc_drop": _round(window.value("performance_drop.roc_auc")),
        "accuracy": _round(window.performance.get("accuracy")),
        "kpis": {k: _round(v) for k, v in window.kpis.items()},
        "late_rate": _round(window.performance.get("positive_rate")),
    }


def _decision(month: int, decision: Any) -> dict[str, Any]:
    gates = decision.details.get("gate", {}).get("gates", [])
    comparison = gates[0] if gates else {}
    return {
        "id": decision.id,
        "month": month,
        "trigger": decision.trigger,
        "reason": decision.reason,
        "status": decision.status,
        "champion": decision.champion_version,
        "challenger": decision.candidate_version,
        "challenger_roc_auc": _round((comparison.get("candidate") or {}).get("roc_auc")),
        "champion_roc_auc": _round((comparison.get("incumbent") or {}).get("roc_auc")),
        "compared_on_rows": decision.details.get("compared_on_rows"),
        "note": decision.details.get("note", ""),
    }


def _alert(note: dict[str, Any]) -> dict[str, Any]:
    keep = ("rule", "status", "severity", "metric", "value", "threshold", "message")
    return {"month": note.get("replay_month"), **{k: note.get(k) for k in keep}}


def _accuracy(state: dict[str, Any]) -> dict[str, Any]:
    """ROC AUC of what was served, and of the first model on the same rows (never retrained)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from mloop.registry import load_model

    monitor = state["monitor"]
    initial = state["initial_version"]
    original = load_model(f"models:/{MODEL}/{initial}")
    before: list[Any] = []
    after: list[Any] = []
    by_month = []
    for month, window in state["windows"]:
        rows = monitor.rows(window)
        if rows.empty:
            continue
        labels = rows["label"].to_numpy(dtype=float)
        served = rows["proba"].to_numpy(dtype=float)
        if int(window.model_version) == initial:
            before.append((labels, served, served))
            first = served
        else:
            first = original.predict_proba(rows[FEATURES])[:, 1]
            after.append((labels, served, first))
        if len(set(labels)) == 2:
            by_month.append(
                {"month": month, "first_model": round(float(roc_auc_score(labels, first)), 4)}
            )

    def auc(parts: list[Any], column: int) -> float | None:
        if not parts:
            return None
        y = np.concatenate([p[0] for p in parts])
        score = np.concatenate([p[column] for p in parts])
        return round(float(roc_auc_score(y, score)), 4) if len(set(y)) == 2 else None

    return {
        "months_first_model": sum(
            1 for _, w in state["windows"] if int(w.model_version) == initial
        ),
        "first_model_roc_auc": auc(before, 1),
        "retrained_served_roc_auc": auc(after, 1),
        "first_model_on_same_rows_roc_auc": auc(after, 2),
        "retrained_rows": int(sum(len(p[0]) for p in after)),
        "by_month": by_month,
    }


def _round(value: Any, digits: int = 4) -> Any:
    if value is None:
        return None
    try:
        return round(float(value), digits)
    except (TypeError, ValueError):
        return value


def tables(result: DemoResult) -> list[Table]:
    """The summary for the terminal: data issues, models, months, decisions, accuracy.

    Each table fits 80 columns without splitting a number: a column is never narrower
    than its longest word (rich wraps at spaces) as long as the widest words of a table
    add up to less than 80, so headers are made of short words and the months are two
    tables (figures, then what happened) rather than one of eleven columns.
    """
    data = _table(
        "Data issues found by the suites", "dataset", "check", "severity", "#rows", "what"
    )
    for finding in result.data.get("checks", []):
        data.add_row(
            finding["dataset"],
            finding["check"],
            finding["severity"],
            f"{finding['failed_rows']:,}",
            _shorten(finding["message"], 110),
        )
    models = _table(
        f"Models of deployment {result.deployment}",
        "#version",
        "trained on flights until",
        "#validation ROC AUC",
        "#answered",
        "how it got there",
    )
    answered = result.replay.get("answered_by_version", {})
    first = result.pipeline.get("validation", {})
    models.add_row(
        str(result.initial_version),
        "2013-04-01 (January–March)",
        _fmt(first.get("roc_auc")),
        f"{answered.get(str(result.initial_version), 0):,}",
        "training pipeline, gate passed, promoted to champion",
    )
    for challenger in result.pipeline.get("challengers", {}).get("models", []):
        verdict = "gate passed, promoted to champion" if challenger["promoted"] else "gate refused"
        models.add_row(
            str(challenger["version"]),
            "2013-04-01 (January–March)",
            _fmt(challenger.get("roc_auc")),
            f"{answered.get(str(challenger['version']), 0):,}",
            f"{challenger['framework']} challenger (model from code): {verdict}",
        )
    promoted = {d["challenger"]: d for d in result.decisions}
    for run in result.retraining_runs:
        decision = promoted.get(run["version"], {})
        models.add_row(
            str(run["version"]),
            run["until"][:10],
            _fmt(run.get("validation_roc_auc")),
            f"{answered.get(str(run['version']), 0):,}",
            f"retrained after {_month(decision.get('month'))}: {decision.get('status', '')}",
        )
    months = _table(
        "Production months (replayed)",
        "month",
        "#model",
        "#flights",
        "#labelled",
        "#temp drift",
        "#ROC AUC",
        "#AUC drop",
        "#cost per flight",
    )
    events = _table("What each month brought", "month", "drifted features", "alerts", "decision")
    alerts_by_month: dict[Any, list[str]] = {}
    for alert in result.alerts:
        alerts_by_month.setdefault(alert["month"], []).append(
            f"{alert['rule']} ({alert['status']})"
        )
    decided = {d["month"]: d for d in result.decisions}
    for w in result.windows:
        d = decided.get(w["month"])
        fired = alerts_by_month.get(w["month"], [])
        months.add_row(
            _month(w["month"]),
            f"v{w['version']}",
            f"{w['rows']:,}",
            f"{w['labelled']:,}",
            _fmt(w["severity"].get("temp")),
            _fmt(w["roc_auc"]),
            _fmt(w["roc_auc_drop"]),
            _fmt(w["kpis"].get("missed_delay_cost"), 2),
        )
        events.add_row(
            f"{_month(w['month'])} v{w['version']}",
            f"{len(w['drifted'])}: {', '.join(w['drifted'][:4])}",
            "; ".join(fired),
            "" if d is None else f"{d['trigger']} → v{d['challenger']} {d['status']}",
        )
    decisions = _table(
        "Retraining decisions",
        "after",
        "trigger",
        "#model",
        "#its AUC",
        "#champion AUC",
        "result",
        "hot swap",
    )
    reasons = _table("Why each retraining was tried, and its outcome", "after", "why", "note")
    swaps = {s["month"]: s for s in result.swaps}
    for d in result.decisions:
        swap = swaps.get(d["month"])
        decisions.add_row(
            _month(d["month"]),
            d["trigger"],
            f"v{d['challenger']}",
            _fmt(d["challenger_roc_auc"]),
            _fmt(d["champion_roc_auc"]),
            d["status"],
            "" if swap is None else f"v{swap['from']} → v{swap['served']} in {swap['seconds']} s",
        )
        reasons.add_row(_month(d["month"]), _shorten(d["reason"], 120), _shorten(d["note"], 90))
    accuracy = _table(
        "Accuracy before and after retraining (ROC AUC on the labelled traffic)",
        "what",
        "#ROC AUC",
    )
    acc = result.accuracy
    accuracy.add_row(
        f"first model, the {acc.get('months_first_model', 0)} month(s) it served",
        _fmt(acc.get("first_model_roc_auc")),
    )
    accuracy.add_row(
        f"retrained models, the months they served ({acc.get('retrained_rows', 0):,} flights)",
        _fmt(acc.get("retrained_served_roc_auc")),
    )
    accuracy.add_row(
        "the first model on those same flights (had it never been retrained)",
        _fmt(acc.get("first_model_on_same_rows_roc_auc")),
    )
    return [data, models, months, events, decisions, reasons, accuracy]


def _table(title: str, *columns: str) -> Table:
    """A summary table; a column named ``#name`` holds numbers (right-aligned)."""
    from rich.table import Table

    view = Table(title=title, header_style="bold")
    for column in columns:
        numeric = column.startswith("#")
        view.add_column(column.lstrip("#"), justify="right" if numeric else "left")
    return view


def _shorten(text: str, width: int) -> str:
    """``text`` cut at a word (never inside a number) to at most ``width`` characters."""
    import textwrap

    return textwrap.shorten(str(text), width, placeholder=" ...")


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _month(number: Any) -> str:
    import calendar

    return calendar.month_abbr[int(number)] if number else ""
