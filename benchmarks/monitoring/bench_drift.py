"""Drift: mloop against the same statistics by hand (numpy/scipy) and Evidently's report.

    .venv/bin/python benchmarks/monitoring/bench_drift.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/monitoring/bench_drift.py --evidently-rows 200000,1000000
    .venv/bin/python benchmarks/monitoring/bench_drift.py --rows 20000 --no-peers

Data (``data.py``): reference and current tables of ``--rows`` rows, 20 numeric and 5
categorical columns, a quarter of them shifted. Each measurement runs in its own process
(medians of ``--repeat`` runs; peak memory above the loaded inputs):

- mloop: ``drift(reference_df, current_df)`` — exact statistics on raw rows;
- by hand: the same statistics with numpy, pandas and scipy (``by_hand.py``);
- mloop against a stored reference profile: ``drift(profile, current_df)`` (the monitoring
  path), and ``drift(profile, window_profile)`` once the window is profiled;
- Evidently's ``DataDriftPreset`` report, in ``benchmarks/.venv-evidently``, at
  ``--evidently-rows`` (and mloop again at those sizes for the ratio).

Writes ``benchmarks/results/monitoring_drift.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

EVIDENTLY = ["evidently==0.7.23", "pandas<3", "pyarrow"]


def worker(mode: str, reference: Path, current: Path, repeat: int) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            str(HERE / "worker.py"),
            mode,
            str(reference),
            str(current),
            "--repeat",
            str(repeat),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evidently-rows", default="200000", help="Comma-separated sizes.")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-save", action="store_true", help="Print only (the smoke test).")
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "mloop-bench-drift"
    )
    args = parser.parse_args()
    from peer_env import peer_python, run_peer, save

    from data import write

    sizes = sorted(
        {
            args.rows,
            *([] if args.no_peers else [int(s) for s in args.evidently_rows.split(",") if s]),
        }
    )
    files = {rows: write(args.data, rows) for rows in sizes}
    figures: dict[str, Any] = {
        "rows": args.rows,
        "columns": {"numeric": 20, "categorical": 5},
        "load_average_start": os.getloadavg(),
    }
    reference, current = files[args.rows]
    figures["mloop"] = worker("mloop", reference, current, args.repeat)
    figures["by_hand"] = worker("by_hand", reference, current, args.repeat)
    profile_path = args.data / f"reference_profile_{args.rows}.json"
    if not profile_path.exists():
        import pandas as pd

        from mloop import data

        profile_path.write_text(data.profile(pd.read_parquet(reference)).to_json())
    figures["mloop_profile"] = worker("mloop_profile", profile_path, current, args.repeat)
    _agreement(figures)
    if not args.no_peers:
        python = peer_python("evidently", EVIDENTLY)
        figures["evidently"] = {}
        for rows in sizes:
            if str(rows) not in args.evidently_rows.split(","):
                continue
            ref, cur = files[rows]
            mine = figures["mloop"] if rows == args.rows else worker("mloop", ref, cur, args.repeat)
            try:
                theirs = run_peer(
                    python, HERE / "peer_evidently.py", [str(ref), str(cur)], timeout=3 * 3600
                )
            except subprocess.CalledProcessError as exc:
                theirs = {"error": (exc.stderr or "")[-2000:]}
            figures["evidently"][str(rows)] = {
                "evidently": theirs,
                "mloop": {
                    k: mine[k] for k in ("seconds", "cpu_seconds", "peak_mb_over_inputs", "drifted")
                },
                "columns": _columns(mine.get("drifted") or [], theirs.get("flagged")),
            }
    figures["load_average_end"] = os.getloadavg()
    _report(figures)
    if not args.no_save:
        print(f"written to {save('monitoring_drift', figures)}")


def _columns(mine: list[str], flagged: dict[str, Any] | None) -> dict[str, Any]:
    """Which columns each tool flags, and where they disagree (not only how many)."""
    if not flagged:
        return {"mloop": sorted(mine), "evidently": None}
    theirs = flagged["columns"]
    return {
        "mloop": sorted(mine),
        "evidently": sorted(theirs),
        "only_mloop": sorted(set(mine) - set(theirs)),
        "only_evidently": sorted(set(theirs) - set(mine)),
        "evidently_methods": sorted(set(flagged.get("methods", {}).values())),
        "evidently_count_matches_its_report": flagged.get("reported_count") == len(theirs),
    }


def _agreement(figures: dict[str, Any]) -> None:
    """The largest difference between mloop's and the hand-written scores (a sanity check)."""
    mine, theirs = figures["mloop"]["scores"], figures["by_hand"]["scores"]
    worst: dict[str, float] = {}
    for column, scores in theirs.items():
        for name in ("wasserstein", "jensenshannon", "hellinger", "psi"):
            if name in scores and name in mine[column]:
                gap = abs(scores[name] - mine[column][name])
                worst[name] = max(worst.get(name, 0.0), gap)
    figures["max_abs_difference_vs_by_hand"] = worst
    del figures["mloop"]["scores"], figures["by_hand"]["scores"]


def _report(figures: dict[str, Any]) -> None:
    m, h, p = figures["mloop"], figures["by_hand"], figures["mloop_profile"]
    print(f"{figures['rows']:,} vs {figures['rows']:,} rows, 20 numeric + 5 categorical")
    print(
        f"  mloop drift (raw rows)        {m['seconds']:8.2f} s  peak +{m['peak_mb_over_inputs']:.0f} MB"
    )
    print(
        f"  by hand (numpy/scipy)         {h['seconds']:8.2f} s  peak +{h['peak_mb_over_inputs']:.0f} MB"
    )
    print(f"  ratio mloop / by hand         {m['seconds'] / h['seconds']:8.2f}")
    print(
        f"  mloop vs stored profile       {p['seconds']:8.2f} s  peak +{p['peak_mb_over_inputs']:.0f} MB"
    )
    print(f"  profile the window            {p['window_profile_seconds']:8.2f} s")
    print(f"  mloop profile vs profile      {p['profile_vs_profile_seconds']:8.3f} s")
    gaps = figures["max_abs_difference_vs_by_hand"]
    print(
        "  largest |mloop - by hand|     "
        + ", ".join(f"{k} {v:.2e}" for k, v in sorted(gaps.items()))
    )
    for rows, pair in figures.get("evidently", {}).items():
        theirs, mine = pair["evidently"], pair["mloop"]
        if "error" in theirs:
            print(f"  Evidently at {int(rows):,} rows failed: {theirs['error'][-300:]}")
            continue
        print(
            f"  Evidently {theirs['version']} at {int(rows):,} rows {theirs['seconds']:8.2f} s  "
            f"peak +{theirs['peak_mb_over_inputs']:.0f} MB; mloop {mine['seconds']:.2f} s -> "
            f"{theirs['seconds'] / mine['seconds']:.0f}x"
        )
        columns = pair.get("columns", {})
        if columns.get("evidently") is not None:
            print(
                f"    columns flagged: mloop {', '.join(columns['mloop']) or '-'}; Evidently "
                f"{', '.join(columns['evidently']) or '-'}; only mloop "
                f"{', '.join(columns['only_mloop']) or '-'}, only Evidently "
                f"{', '.join(columns['only_evidently']) or '-'}"
            )


if __name__ == "__main__":
    main()
