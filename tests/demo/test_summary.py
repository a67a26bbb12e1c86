"""The demo's summary tables fit an 80-column terminal without splitting a number."""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console
from rich.table import Table

from mloop.demo import DemoResult, tables

_NUMBER = re.compile(r"\d[\d,.]*\d|\d")


def layout_problems(views: list[Table], width: int = 80) -> list[str]:
    """Render ``views`` at ``width`` columns; return the numbers of their cells that do
    not appear whole on one line, every line wider than ``width`` and every line where
    rich had to crop a cell or header (an ellipsis)."""
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    for view in views:
        console.print(view)
    lines = console.export_text().splitlines()
    problems = [
        f"line {i} is {len(line)} wide" for i, line in enumerate(lines) if len(line) > width
    ]
    problems += [f"line {i} is cropped: {line}" for i, line in enumerate(lines) if "…" in line]
    for view in views:
        for column in view.columns:
            for cell in column.cells:
                for number in _NUMBER.findall(str(cell)):
                    whole = re.compile(rf"(?<!\d)(?<!\d[.,]){re.escape(number)}(?![.,]?\d)")
                    if not any(whole.search(line) for line in lines):
                        problems.append(f"{view.title}: {number} (cell {cell!r}) is split")
    return problems


def _long_result() -> DemoResult:
    """A demo result with the widest values a run produces: 12 versions, 5-digit counts,
    negative drops, long reasons and notes, the longest feature names."""
    months = range(4, 13)
    windows = [
        {
            "id": f"w{m}",
            "month": m,
            "version": m,
            "rows": 12_345 + m,
            "labelled": 11_987 + m,
            "drift_share": 0.4375,
            "drifted": ["pressure_change_3h", "dep_delay_mean_7d", "temp", "dewp", "humid"],
            "severity": {"temp": 12.3456},
            "roc_auc": 0.7123 + m / 1000,
            "roc_auc_drop": -0.1234,
            "accuracy": 0.8,
            "kpis": {"missed_delay_cost": 123.456},
            "late_rate": 0.2,
        }
        for m in months
    ]
    decisions = [
        {
            "id": f"d{m}",
            "month": m,
            "trigger": "accuracy" if m % 2 else "drift",
            "reason": "roc_auc of version 4 fell from 0.7359 to 0.6518 on 717 labelled rows "
            "(a drop of 0.0841, above 0.05)"
            if m % 2
            else "drift in 2 of the last 3 windows of version 3 (dep_delay_mean_7d, dewp, "
            "pressure_change_3h, temp)",
            "status": "rejected" if m % 2 else "promoted",
            "champion": m,
            "challenger": m + 1,
            "challenger_roc_auc": 0.6987,
            "champion_roc_auc": 0.7012,
            "compared_on_rows": 10_000,
            "note": "challenger roc_auc 0.5945 vs champion 0.6179: improvement -0.0234 is not "
            "above the required 0",
        }
        for m in months
    ]
    alerts = [
        {"month": m, "rule": "temperature drift", "status": "firing", "severity": "warning"}
        for m in months
    ] + [{"month": 7, "rule": "accuracy drop", "status": "resolved", "severity": "critical"}]
    checks = [
        {
            "dataset": "weather",
            "check": "between(wind_speed, 0, 150)",
            "severity": "error",
            "failed_rows": 1,
            "message": "1 row (0.0038%) has wind_speed outside [0, 150]: 1048.36058",
        },
        {
            "dataset": "flights",
            "check": "not_null(dep_delay)",
            "severity": "warn",
            "failed_rows": 8_255,
            "message": "8,255 rows (2.4512%) have no dep_delay (cancelled flights)",
        },
    ]
    empty: dict[str, Any] = {}
    return DemoResult(
        deployment="a1b2c3d4",
        run_id="r" * 32,
        scenario="full",
        replayed="the first 2 days of April–December",
        seconds=82.4,
        steps={},
        load_average=(1.0, 1.0, 1.0),
        data={"checks": checks},
        features=[],
        pipeline={"validation": {"roc_auc": 0.71234}},
        initial_version=1,
        retraining_runs=[
            {
                "version": m + 1,
                "until": f"2013-{m:02d}-01T00:00:00+00:00",
                "validation_roc_auc": 0.7,
            }
            for m in months
        ],
        replay={"answered_by_version": {str(v): 12_345 for v in range(1, 14)}},
        online=empty,
        windows=windows,
        alerts=alerts,
        decisions=decisions,
        swaps=[
            {"month": m, "from": str(m), "to": str(m + 1), "served": str(m + 1), "seconds": 0.53}
            for m in months
            if m % 2 == 0
        ],
        accuracy={
            "months_first_model": 3,
            "first_model_roc_auc": 0.7012,
            "retrained_served_roc_auc": 0.7234,
            "first_model_on_same_rows_roc_auc": 0.6789,
            "retrained_rows": 123_456,
        },
        champion_version=12,
    )


def test_the_summary_tables_fit_80_columns_without_splitting_a_number() -> None:
    views = tables(_long_result())
    assert layout_problems(views) == []
    months = next(v for v in views if v.title == "Production months (replayed)")
    assert [str(c) for c in months.columns[2].cells] == [f"{12_345 + m:,}" for m in range(4, 13)]


def test_the_check_catches_a_table_too_wide_for_80_columns() -> None:
    wide = Table(title="eleven columns")
    for name in "abcdefghijk":
        wide.add_column(f"column {name}")
    wide.add_row(*[f"{123_456.789 + i:,.3f}" for i in range(11)])
    assert layout_problems([wide])  # the same check flags split numbers
