"""Fairlearn's half of the evaluation benchmark (runs in benchmarks/.venv-fairlearn).

    python peer_fairlearn.py scored.parquet --repeats 3

Per-group metrics with ``MetricFrame`` (one per slice column, as a Fairlearn user would),
and the fairness summaries over ``origin``. Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn import metrics as skm

SLICES = ["origin", "carrier", "month"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frame = pd.read_parquet(args.path)
    y = frame["late"].to_numpy()
    score = frame["proba"].to_numpy()
    label = (score >= 0.5).astype(int)

    def on_labels(fn):  # metrics of labels, given the scores as y_pred
        return lambda t, s: fn(t, (s >= 0.5).astype(int), zero_division=np.nan)

    metrics = {
        "count": lambda t, s: len(t),
        "accuracy": lambda t, s: skm.accuracy_score(t, s >= 0.5),
        "precision": on_labels(skm.precision_score),
        "recall": on_labels(skm.recall_score),
        "f1": on_labels(skm.f1_score),
        "roc_auc": lambda t, s: skm.roc_auc_score(t, s) if 0 < t.sum() < len(t) else np.nan,
        "pr_auc": lambda t, s: skm.average_precision_score(t, s) if t.sum() else np.nan,
        "log_loss": lambda t, s: skm.log_loss(t, s, labels=[0, 1]),
        "brier": lambda t, s: skm.brier_score_loss(t, s, pos_label=1),
    }

    def sliced() -> dict[str, pd.DataFrame]:
        return {
            column: MetricFrame(
                metrics=metrics, y_true=y, y_pred=score, sensitive_features=frame[column]
            ).by_group
            for column in SLICES
        }

    def fair() -> dict[str, float]:
        sensitive = frame["origin"]
        table = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "accuracy": skm.accuracy_score,
            },
            y_true=y,
            y_pred=label,
            sensitive_features=sensitive,
        ).by_group
        assert len(table) == 3
        return {
            "demographic_parity_difference": demographic_parity_difference(
                y, label, sensitive_features=sensitive
            ),
            "demographic_parity_ratio": demographic_parity_ratio(
                y, label, sensitive_features=sensitive
            ),
            "equalized_odds_difference": equalized_odds_difference(
                y, label, sensitive_features=sensitive
            ),
        }

    times, fair_times = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        groups = sliced()
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        summaries = fair()
        fair_times.append(time.perf_counter() - start)
    jfk = groups["origin"].loc["JFK"]
    print(
        json.dumps(
            {
                "rows": len(frame),
                "slices": int(sum(len(g) for g in groups.values())),
                "sliced_s": statistics.median(times),
                "fairness_s": statistics.median(fair_times),
                "jfk": {k: float(jfk[k]) for k in ("roc_auc", "pr_auc", "log_loss", "f1")},
                "fairness": {k: float(v) for k, v in summaries.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
