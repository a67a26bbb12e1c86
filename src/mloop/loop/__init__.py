"""The closed loop: retraining policies that rebuild, re-validate and promote a model.

>>> from mloop import loop
>>> policy = loop.RetrainingPolicy(
...     "delays", "delays", train=train_delays,
...     triggers=[loop.DriftTrigger(k=2, n=3), loop.AccuracyDrop("roc_auc", drop=0.03)],
...     approval="manual",
... )
>>> decision = policy.step()                       # after the monitor observed new windows
>>> loop.approve(decision.id, reason="card reviewed")   # or `mloop loop approve <id>`

Promotion moves the alias (``champion``); servers polling it hot-swap. Every decision is
in the audit log (``loop.*`` actions) and in lineage (window → training run → model).
"""

from __future__ import annotations

from mloop.loop.comparison import AllOf, ChampionComparison
from mloop.loop.decisions import STATUSES, Decision, approve, decisions, get_decision, reject
from mloop.loop.pipeline import PipelineTraining
from mloop.loop.policy import RetrainingPolicy
from mloop.loop.training import TrainingContext
from mloop.loop.triggers import AccuracyDrop, DriftTrigger, Fired, Schedule, Trigger, TriggerContext

__all__ = [
    "STATUSES",
    "AccuracyDrop",
    "AllOf",
    "ChampionComparison",
    "Decision",
    "DriftTrigger",
    "Fired",
    "PipelineTraining",
    "RetrainingPolicy",
    "Schedule",
    "TrainingContext",
    "Trigger",
    "TriggerContext",
    "approve",
    "decisions",
    "get_decision",
    "reject",
]
