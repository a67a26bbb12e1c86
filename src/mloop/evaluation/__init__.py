"""Model quality: evaluation with slices and KPIs, explanations, fairness, gates, model cards, tuning.

>>> result = mloop.evaluate("models:/delays/2", test_df, target="late",
...                         slices=["origin", "carrier"], baseline="models:/delays@champion")
>>> result.metrics["roc_auc"], result.slices.head(3), result.comparison
>>> mloop.evaluation.score(y_true, y_pred, proba)   # the one definition of every metric
>>> gate = Gate([rules.min_metric("roc_auc", 0.7), rules.max_regression("roc_auc", 0.01)])
>>> mloop.registry.promote("delays", 2, alias="champion", gate=gate, data=test_df, target="late")

Heavy libraries (pandas, scikit-learn, matplotlib, Optuna, Ray) load on first use.
"""

from __future__ import annotations

from mloop.evaluation import rules
from mloop.evaluation.calling import call_model, missing_values
from mloop.evaluation.card import ModelCard, model_card
from mloop.evaluation.evaluate import evaluate
from mloop.evaluation.explain import Explanation, RowExplanation, explain, explain_row
from mloop.evaluation.fairness import FairnessResult, fairness
from mloop.evaluation.gate import Gate, GateResult, load_gate
from mloop.evaluation.kpi import KPI
from mloop.evaluation.result import EvaluationResult
from mloop.evaluation.scoring import score
from mloop.evaluation.slices import Slice
from mloop.evaluation.tune import TuneResult, tune

__all__ = [
    "KPI",
    "EvaluationResult",
    "Explanation",
    "FairnessResult",
    "Gate",
    "GateResult",
    "ModelCard",
    "RowExplanation",
    "Slice",
    "TuneResult",
    "call_model",
    "evaluate",
    "explain",
    "explain_row",
    "fairness",
    "load_gate",
    "missing_values",
    "model_card",
    "rules",
    "score",
    "tune",
]
