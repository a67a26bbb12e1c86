"""The retraining policy: trigger → train on fresh data → compare → gate → promote or ask.

>>> policy = RetrainingPolicy(
...     "delays-weekly", "delays", train=train_delays,
...     triggers=[DriftTrigger(k=2, n=3), AccuracyDrop("roc_auc", drop=0.03)],
...     gate=evaluation.Gate([rules.max_fairness_difference(...)]), approval="auto",
... )
>>> decision = policy.step()          # from a scheduler, after the monitor's windows
>>> decision.status, decision.candidate_version
('promoted', 7)

``train`` receives a :class:`TrainingContext` and returns the registered challenger (a
``ModelVersion``, the ``ModelInfo`` of ``log_model`` or a version number). It should
build its training set from data strictly before ``context.until``: the champion's latest
labelled window starts there and is held out to compare the two models on. Every step
is a :class:`~mloop.loop.decisions.Decision` in the store and in the audit log, with
lineage from the windows that triggered it to the training run and the challenger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mloop.core.clock import datetime_to_ms, now_ms
from mloop.core.errors import InvalidInput, MloopError, NotFound
from mloop.core.ids import new_id
from mloop.core.log import get_logger
from mloop.core.principal import current_actor
from mloop.loop import _state
from mloop.loop.comparison import AllOf, ChampionComparison
from mloop.loop.decisions import Decision, decisions, save
from mloop.loop.training import TrainingContext, TrainingFailed, version_of
from mloop.loop.triggers import Fired, Trigger, TriggerContext
from mloop.monitoring import Monitor, set_reference
from mloop.registry import get_version, load_model, promote
from mloop.store import get_store, lineage

if TYPE_CHECKING:
    from mloop.monitoring import Reference, Window
    from mloop.registry import ModelVersion

__all__ = ["RetrainingPolicy"]

APPROVALS = ("auto", "manual")


class RetrainingPolicy:
    """Watches a model's windows and retrains, re-validates and promotes it.

    Args:
        name: the policy's name (its decisions and audit entries carry it).
        model: the registered model; ``alias`` names its champion.
        train: ``fn(context) -> ModelVersion | ModelInfo | int`` that trains and registers
            a challenger on data before ``context.until``.
        triggers: :class:`DriftTrigger`, :class:`AccuracyDrop`, :class:`Schedule`...; the
            first that fires starts a retraining.
        monitor: the model's :class:`mloop.monitoring.Monitor` (default: a plain one).
        gate: an extra gate both models must pass (e.g. :class:`mloop.evaluation.Gate`).
        metric: what the challenger must beat the champion on (default: ``roc_auc`` for a
            classifier with probabilities, else ``accuracy``; ``mae`` for regression).
        min_improvement: by how much it must beat it.
        approval: ``auto`` promotes at once; ``manual`` waits for ``mloop loop approve``.
        min_labelled: the fewest labelled rows a window needs to compare the models on.
    """

    def __init__(
        self,
        name: str,
        model: str,
        train: Callable[[TrainingContext], Any],
        triggers: Sequence[Trigger],
        *,
        monitor: Monitor | None = None,
        gate: Any = None,
        metric: str | None = None,
        min_improvement: float = 0.0,
        approval: str = "auto",
        alias: str = "champion",
        min_labelled: int = 100,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"a retraining policy needs a name, not {name!r}.")
        if not callable(train):
            raise InvalidInput(
                f"train is a {type(train).__name__}; give a function train(context) that registers "
                "and returns the challenger (or use PipelineTraining(pipeline))."
            )
        if not triggers:
            raise InvalidInput(
                "a retraining policy needs at least one trigger, e.g. DriftTrigger(k=2, n=3)."
            )
        for trigger in triggers:
            if not hasattr(trigger, "check"):
                raise InvalidInput(f"trigger {trigger!r} has no check(context) method.")
        if approval not in APPROVALS:
            raise InvalidInput(f"approval = {approval!r} must be 'auto' or 'manual'.")
        if gate is not None and not hasattr(gate, "check"):
            raise InvalidInput(
                f"gate is a {type(gate).__name__}; give an object with check(candidate, incumbent, "
                "data=, target=) such as mloop.evaluation.Gate."
            )
        self.name = name
        self.model = model
        self.train = train
        self.triggers = list(triggers)
        self.monitor = monitor if monitor is not None else Monitor(model, alias=alias)
        self.gate = gate
        self.metric = metric
        self.min_improvement = min_improvement
        self.approval = approval
        self.alias = alias
        self.min_labelled = min_labelled

    def __repr__(self) -> str:
        return f"RetrainingPolicy({self.name!r}, model={self.model!r}, approval={self.approval!r})"

    def decisions(self) -> list[Decision]:
        return decisions(self.model, policy=self.name)

    def step(self, now: Any = None) -> Decision | None:
        """Check the triggers; when one fires, run the whole retraining. None when quiet.

        A decision awaiting approval holds the policy: nothing new is trained until it is
        approved or rejected.
        """
        at = _time(now)
        if any(d.status == "awaiting_approval" for d in self.decisions()):
            return None
        champion = get_version(self.model, self.alias)
        windows = self.monitor.windows(version=champion.version)
        reference = _reference_or_none(self.monitor, champion.version)
        state = _state.load(self.name)
        context = TriggerContext(
            self.model, champion.version, windows, at, reference, state.get("last_tick_at")
        )
        fired = next((f for f in (t.check(context) for t in self.triggers) if f is not None), None)
        ticks = [f.tick_at for f in [fired] if f is not None and f.tick_at is not None]
        _state.save(
            self.name, self.model, at, ticks[0] if ticks else state.get("last_tick_at") or at
        )
        if fired is None:
            return None
        return self._retrain(fired, champion, windows, reference, at)

    def retrain(self, reason: str = "requested by hand", now: Any = None) -> Decision:
        """Run a retraining now, whatever the triggers say (recorded as trigger ``manual``)."""
        at = _time(now)
        champion = get_version(self.model, self.alias)
        windows = self.monitor.windows(version=champion.version)
        reference = _reference_or_none(self.monitor, champion.version)
        fired = Fired("manual", reason, {}, windows[-1].id if windows else None)
        return self._retrain(fired, champion, windows, reference, at)

    # -- one retraining ---------------------------------------------------------------------

    def _retrain(
        self,
        fired: Fired,
        champion: ModelVersion,
        windows: list[Window],
        reference: Reference | None,
        at: int,
    ) -> Decision:
        actor = current_actor() or f"policy:{self.name}"
        decision = Decision(
            id=new_id(),
            policy=self.name,
            model=self.model,
            alias=self.alias,
            trigger=fired.kind,
            reason=fired.reason,
            status="triggered",
            champion_version=champion.version,
            window_id=fired.window_id,
            details={"evidence": fired.evidence, "at": at},
        )
        save(decision, "loop.trigger", actor)
        labelled = [w for w in windows if w.labelled_rows >= self.min_labelled]
        if not labelled:
            decision.status = "blocked"
            decision.details["note"] = (
                f"no window of version {champion.version} has {self.min_labelled}+ labelled rows to "
                "compare a challenger on; waiting for labels"
            )
            return save(decision, "loop.blocked", actor)
        window = labelled[-1]
        decision.details["evaluation_window"] = window.id
        try:
            self._train(decision, champion, window, at, actor)
            return self._judge(decision, champion, window, reference, actor)
        except MloopError as exc:
            decision.status = "failed"
            decision.details["note"] = f"{type(exc).__name__}: {exc}"
            get_logger("mloop.loop").error("policy %s: %s", self.name, decision.details["note"])
            return save(decision, "loop.failed", actor)

    def _train(
        self, decision: Decision, champion: ModelVersion, window: Window, at: int, actor: str
    ) -> None:
        context = TrainingContext(
            self.name,
            self.model,
            decision.id,
            until=window.start,
            now=at,
            trigger=decision.trigger,
            reason=decision.reason,
            champion_version=champion.version,
            evaluation_window=window,
        )
        try:
            produced = self.train(context)
        except MloopError:
            raise
        except Exception as exc:
            raise TrainingFailed(
                f"the training function raised {type(exc).__name__}: {exc}"
            ) from exc
        candidate = version_of(self.model, produced)
        if candidate.version == champion.version:
            raise TrainingFailed(
                f"the training function returned the champion itself (version {champion.version}); "
                "it must register a new version."
            )
        decision.candidate_version = candidate.version
        decision.run_id = candidate.run_id
        decision.status = "trained"
        if context.reference_data is not None:
            set_reference(
                self.model,
                candidate.version,
                context.reference_data,
                target=context.reference_target,
            )
        save(decision, "loop.train", actor, audit_details={"until": context.until})
        edges: list[tuple[lineage.Node, str, lineage.Node, dict[str, Any] | None]] = []
        if candidate.run_id and decision.window_id:
            edges.append(
                (
                    lineage.Node("monitoring_window", decision.window_id),
                    "triggered",
                    lineage.Node("run", candidate.run_id),
                    None,
                )
            )
        edges.append(
            (
                lineage.Node("monitoring_window", window.id),
                "evaluated",
                lineage.Node("model_version", f"{self.model}/{candidate.version}"),
                {"decision": decision.id},
            )
        )
        lineage.add_edges(get_store(), edges)

    def _judge(
        self,
        decision: Decision,
        champion: ModelVersion,
        window: Window,
        reference: Reference | None,
        actor: str,
    ) -> Decision:
        rows = self.monitor.rows(window, labelled=True)
        if reference is None:
            raise TrainingFailed(
                f"version {champion.version} has no monitoring reference, so its features and task "
                "are unknown; set_reference() it."
            )
        metric = self.metric or _default_metric(reference)
        comparison = ChampionComparison(
            metric, reference.task, reference.features, self.min_improvement
        )
        gate = AllOf([comparison, self.gate])
        assert decision.candidate_version is not None
        result = gate.check(
            load_model(f"models:/{self.model}/{decision.candidate_version}"),
            load_model(f"models:/{self.model}/{champion.version}"),
            data=rows,
            target="label",
        )
        decision.details["gate"] = result.to_dict()
        decision.details["compared_on_rows"] = len(rows)
        if not result.passed:
            decision.status = "rejected"
            decision.details["note"] = "; ".join(result.failures)
            return save(decision, "loop.reject", actor)
        if self.approval == "manual":
            decision.status = "awaiting_approval"
            return save(decision, "loop.await_approval", actor)
        note = f"retraining policy {self.name} ({decision.trigger}): {decision.reason}"
        promote(
            self.model,
            decision.candidate_version,
            alias=self.alias,
            gate=_Recorded(result),
            reason=note,
        )
        decision.status = "promoted"
        decision.decided_by = actor
        decision.decided_at = now_ms()
        return save(decision, "loop.promote", actor)


class _Recorded:
    """A gate whose verdict is already known (so the registry records it with the promotion)."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def check(
        self, candidate: Any, incumbent: Any, *, data: Any = None, target: str | None = None
    ) -> Any:
        return self.result


def _default_metric(reference: Reference) -> str:
    if reference.task == "regression":
        return "mae"
    if "proba" in reference.outputs and len(reference.classes or [0, 1]) == 2:
        return "roc_auc"
    return "accuracy"


def _reference_or_none(monitor: Monitor, version: int) -> Reference | None:
    try:
        return monitor.reference(version)
    except NotFound:
        return None


def _time(now: Any) -> int:
    if now is None:
        return now_ms()
    import pandas as pd

    if isinstance(now, int) and not isinstance(now, bool):
        return now
    try:
        stamp = pd.Timestamp(now)
    except (TypeError, ValueError):
        raise InvalidInput(f"now = {now!r} is not a time; give a datetime or ISO string.") from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return datetime_to_ms(stamp.to_pydatetime())
