"""Print the tables of BENCHMARKS.md's "Tracking (vs MLflow)" section from the results.

    .venv/bin/python benchmarks/tracking/report.py

Reads ``benchmarks/results/tracking_{logging,search,startup}.json`` (written by the
bench scripts) and prints Markdown; the prose around the tables is written by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"tracking_{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _machine(figures: dict[str, Any]) -> str:
    m = figures["machine"]
    load = ", ".join(str(x) for x in m["load_average"])
    return f"{m['date']}, {m['cpus']} cores, Python {m['python']}, load average {load}"


def logging_table(figures: dict[str, Any]) -> str:
    sizes = figures["sizes"]
    lines = [
        f"One run, {sizes['params']} params + {sizes['metrics']} metrics x {sizes['steps']} "
        f"steps ({figures['results'][0]['values']:,} values), one call per value; "
        f"{_machine(figures)}.",
        "",
        "| tool | runs | calls only (s) | until stored (s) | values/s | mloop (SQLite) faster |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in figures["results"]:
        lines.append(
            f"| {row['label']} {row['version']} | {row['repeats']} | {row['calls_seconds']:.3f} "
            f"| {row['seconds']:.3f} | {row['values_per_second']:,.0f} "
            f"| {row['mloop_faster']:,.1f}x |"
        )
    return "\n".join(lines)


def search_table(figures: dict[str, Any]) -> str:
    lines = [
        f'{figures["runs"]:,} runs, `filter_string="{figures["filter_string"]}"` '
        f"({figures['matching_runs']:,} match), `order_by={figures['order_by']}`, median of "
        f"{figures['repeats']}; {_machine(figures)}.",
        "",
        "| tool | output | max_results | rows | median (ms) | mloop (SQLite) faster |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in figures["results"]:
        output = "list of runs" if "list" in row["case"] else "DataFrame"
        faster = f"{row['mloop_faster']:,.1f}x" if "mloop_faster" in row else ""
        lines.append(
            f"| {row['tool']} | {output} | {row['max_results']:,} | {row['rows']:,} "
            f"| {row['median_seconds'] * 1000:,.1f} | {faster} |"
        )
    return "\n".join(lines)


def startup_table(figures: dict[str, Any]) -> str:
    lines = [
        f"Fresh process per run, commands taking turns; {_machine(figures)}.",
        "",
        "| command | runs | median wall (s) | fastest (s) | median CPU (s) | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in figures["results"]:
        target = "" if row["target_seconds"] is None else f"< {row['target_seconds']} s"
        lines.append(
            f"| `{row['command']}` | {row['runs']} | {row['median_seconds']:.3f} "
            f"| {row['min_seconds']:.3f} | {row['median_cpu_seconds']:.3f} | {target} |"
        )
    return "\n".join(lines)


def main() -> None:
    for name, render in (
        ("logging", logging_table),
        ("search", search_table),
        ("startup", startup_table),
    ):
        figures = _load(name)
        print(f"### {name}\n")
        print(render(figures) if figures else "_not measured yet_")
        print()


if __name__ == "__main__":
    main()
