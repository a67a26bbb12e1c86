"""Retraining policies: triggers, challenger versus champion, gates, approval, audit, lineage."""

from __future__ import annotations

import pandas as pd
import pytest

import mloop
from mloop import loop
from mloop.core.errors import Conflict, InvalidInput, NotFound
from mloop.monitoring import Monitor, set_reference
from mloop.store import audit, get_store, lineage
from mloop.store.predictions import record_feedback
from tests.monitoring.synthetic import FEATURES, fit, log_predictions, register, rows


def _drifted() -> Monitor:
    """Champion v1 learnt ``y = x > 0.3``; January's traffic moved (x + 1) and so did y (x > 1.3)."""
    register(rows(3_000, 0))
    mloop.registry.set_alias("m", "champion", 1)
    set_reference("m", 1, rows(1_000, 1), target="y")
    january = rows(1_500, 2, shift=1.0, cut=1.3)
    ids = log_predictions(january, "2026-01-01")
    record_feedback("m", ids, january["y"].tolist())
    monitor = Monitor("m")
    monitor.run("2026-01-01", "2026-01-02", every="1D")
    return monitor


@pytest.fixture
def drifted() -> Monitor:
    return _drifted()


@pytest.fixture
def drifted_on_each_db(db_url: str) -> Monitor:
    return _drifted()


def _train_on(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    def train(context: loop.TrainingContext) -> object:
        assert context.until == context.evaluation_window.start  # the window is held out
        version = register(frame)
        context.set_reference(frame.sample(500, random_state=0), target="y")
        return version

    return train


def test_drift_retrains_and_promotes_a_better_challenger(drifted_on_each_db: Monitor) -> None:
    drifted = drifted_on_each_db
    policy = loop.RetrainingPolicy(
        "p",
        "m",
        train=_train_on(rows(3_000, 3, shift=1.0, cut=1.3)),
        triggers=[loop.DriftTrigger(k=1, n=1)],
        monitor=drifted,
        metric="accuracy",
    )
    decision = policy.step(now="2026-01-02")
    assert decision is not None and decision.status == "promoted", decision.details
    assert (decision.trigger, decision.champion_version, decision.candidate_version) == (
        "drift",
        1,
        2,
    )
    assert "drift in 1 of the last 1 windows" in decision.reason
    comparison = decision.details["gate"]["gates"][0]
    assert comparison["candidate"]["accuracy"] > comparison["incumbent"]["accuracy"]
    assert mloop.registry.get_version("m", "champion").version == 2
    assert mloop.monitoring.get_reference("m", 2).num_rows == 500
    actions = [
        e.action
        for e in reversed(
            audit.entries(get_store(), object_kind="loop_decision", object_id=decision.id)
        )
    ]
    assert actions == ["loop.trigger", "loop.train", "loop.promote"]
    promotion = audit.entries(
        get_store(), object_kind="registered_model", object_id="m", action="promote"
    )[0]
    assert promotion.to_value == "champion=2" and promotion.details["gate"]["passed"] is True
    edges = lineage.upstream(get_store(), lineage.Node("model_version", "m/2"))
    assert ("monitoring_window", "triggered", "run") in {
        (e.source.kind, e.relation, e.target.kind) for e in edges
    }
    # the new champion has no windows yet: the next step is quiet
    assert policy.step(now="2026-01-03") is None


def test_a_worse_challenger_is_rejected_and_the_champion_stays(drifted: Monitor) -> None:
    shuffled = rows(3_000, 4)
    shuffled["y"] = shuffled["y"].sample(frac=1.0, random_state=0).to_numpy()  # learns nothing
    policy = loop.RetrainingPolicy(
        "p",
        "m",
        train=_train_on(shuffled),
        triggers=[loop.DriftTrigger(k=1, n=1)],
        monitor=drifted,
        metric="accuracy",
    )
    decision = policy.step()
    assert decision is not None and decision.status == "rejected"
    assert "improvement" in decision.details["note"]
    assert mloop.registry.get_version("m", "champion").version == 1


def test_manual_approval_waits_then_promotes_with_an_audit_trail(
    drifted_on_each_db: Monitor,
) -> None:
    drifted = drifted_on_each_db
    policy = loop.RetrainingPolicy(
        "p",
        "m",
        train=_train_on(rows(3_000, 3, shift=1.0, cut=1.3)),
        triggers=[loop.DriftTrigger(k=1, n=1)],
        monitor=drifted,
        approval="manual",
        metric="accuracy",  # the relationship moved its cut: ranking (AUC) is unchanged
    )
    decision = policy.step()
    assert decision is not None and decision.status == "awaiting_approval"
    assert mloop.registry.get_version("m", "champion").version == 1
    assert policy.step() is None  # a pending decision holds the policy
    with pytest.raises(InvalidInput, match="needs a reason"):
        loop.reject(decision.id, "")
    promoted = loop.approve(decision.id, reason="looked at the card", actor="ana")
    assert promoted.version == 2 and "champion" in promoted.aliases
    stored = loop.get_decision(decision.id)
    assert (stored.status, stored.decided_by) == ("promoted", "ana")
    with pytest.raises(Conflict, match="not awaiting approval"):
        loop.approve(decision.id)
    approval = audit.entries(
        get_store(), object_kind="loop_decision", object_id=decision.id, action="loop.approve"
    )
    assert approval[0].actor == "ana"


def test_a_rejected_approval_keeps_the_champion(drifted: Monitor) -> None:
    policy = loop.RetrainingPolicy(
        "p",
        "m",
        train=_train_on(rows(3_000, 3, shift=1.0, cut=1.3)),
        triggers=[loop.DriftTrigger(k=1, n=1)],
        monitor=drifted,
        approval="manual",
        metric="accuracy",  # the relationship moved its cut: ranking (AUC) is unchanged
    )
    decision = policy.step()
    assert decision is not None and decision.status == "awaiting_approval"
    assert loop.reject(decision.id, "fairness review pending").status == "rejected"
    assert mloop.registry.get_version("m", "champion").version == 1
    assert [d.status for d in loop.decisions("m")] == ["rejected"]


def test_a_user_gate_can_refuse_what_the_comparison_accepts(drifted: Monitor) -> None:
    from mloop.evaluation import Gate, rules

    gate = Gate([rules.min_metric("accuracy", 0.99)], record=False)
    policy = loop.RetrainingPolicy(
        "p",
        "m",
        train=_train_on(rows(3_000, 3, shift=1.0, cut=1.3)),
        triggers=[loop.DriftTrigger(k=1, n=1)],
        monitor=drifted,
        gate=gate,
        metric="accuracy",
    )
    decision = policy.step()
    assert decision is not None and decision.status == "rejected"
    verdicts = decision.details["gate"]["gates"]
    assert verdicts[0]["passed"] is True and verdicts[1]["passed"] is False


def test_failures_and_missing_labels_are_recorded_not_raised() -> None:
    register(rows(2_000, 0))
    mloop.registry.set_alias("m", "champion", 1)
    set_reference("m", 1, rows(500, 1), target="y")
    log_predictions(rows(400, 2, shift=2.0), "2026-01-01")
    monitor = Monitor("m")
    monitor.run("2026-01-01", "2026-01-02", every="1D")

    def broken(context: loop.TrainingContext) -> object:
        raise RuntimeError("the warehouse is down")

    policy = loop.RetrainingPolicy(
        "p", "m", train=broken, triggers=[loop.DriftTrigger(k=1, n=1)], monitor=monitor
    )
    blocked = policy.step()
    assert blocked is not None and blocked.status == "blocked"  # no labels to compare on yet
    record_feedback("m", [f"r{i}" for i in range(400)], [1] * 400)
    monitor.refresh_labels()
    failed = policy.step()
    assert failed is not None and failed.status == "failed"
    assert "the warehouse is down" in failed.details["note"]


def test_accuracy_drop_and_schedule_triggers(drifted: Monitor) -> None:
    from mloop.loop.triggers import TriggerContext

    windows = drifted.windows()
    reference = drifted.reference(1)
    context = TriggerContext("m", 1, windows, 0, reference)
    fired = loop.AccuracyDrop("accuracy", drop=0.05).check(context)
    assert fired is not None and fired.evidence["drop"] > 0.05
    assert loop.AccuracyDrop("accuracy", drop=0.9).check(context) is None
    monday = int(pd.Timestamp("2026-01-05 03:00", tz="UTC").value // 1_000_000)
    schedule = loop.Schedule("0 3 * * 1")
    assert schedule.check(TriggerContext("m", 1, windows, monday + 1, last_tick_at=None)) is None
    due = schedule.check(TriggerContext("m", 1, windows, monday + 1, last_tick_at=monday - 1))
    assert due is not None and due.tick_at == monday
    assert (
        schedule.check(TriggerContext("m", 1, windows, monday + 60_000, last_tick_at=monday))
        is None
    )


def test_pipeline_training_runs_a_pipeline_with_the_cut_off(drifted: Monitor) -> None:
    from mloop.pipelines import Pipeline, node

    seen: list[str] = []
    fresh = rows(3_000, 3, shift=1.0, cut=1.3)

    def train_model(until: str) -> pd.DataFrame:
        seen.append(until)  # the node runs inside the pipeline's tracked run
        mloop.log_model(
            fit(fresh), "model", registered_model_name="m", input_example=fresh[FEATURES].head()
        )
        return fresh.sample(400, random_state=0)

    pipeline = Pipeline([node(train_model, ["params:until"], "validation")])
    policy = loop.RetrainingPolicy(
        "p",
        "m",
        train=loop.PipelineTraining(pipeline, reference=("validation", "y")),
        triggers=[loop.DriftTrigger(k=1, n=1)],
        monitor=drifted,
        metric="accuracy",
    )
    decision = policy.step()
    assert decision is not None and decision.status == "promoted", decision.details
    assert seen == ["2026-01-01T00:00:00+00:00"]
    assert mloop.monitoring.get_reference("m", 2).num_rows == 400


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"triggers": []}, InvalidInput, "at least one trigger"),
        ({"train": "train.py"}, InvalidInput, "give a function"),
        ({"approval": "sometimes"}, InvalidInput, "'auto' or 'manual'"),
        ({"gate": 0.7}, InvalidInput, "check\\(candidate"),
    ],
)
def test_policy_arguments_are_checked(kwargs: dict, error: type, message: str) -> None:
    arguments = {
        "name": "p",
        "model": "m",
        "train": lambda c: None,
        "triggers": [loop.DriftTrigger()],
        **kwargs,
    }
    with pytest.raises(error, match=message):
        loop.RetrainingPolicy(**arguments)


def test_trigger_arguments_are_checked() -> None:
    with pytest.raises(InvalidInput, match="1 <= k <= n"):
        loop.DriftTrigger(k=4, n=3)
    with pytest.raises(InvalidInput, match="is not valid; use 5 fields"):
        loop.Schedule("every monday")
    with pytest.raises(InvalidInput, match="not known"):
        loop.AccuracyDrop("acc")


def test_unknown_decisions_are_not_found(db_url: str) -> None:
    with pytest.raises(NotFound, match="mloop loop status"):
        loop.get_decision("nope")
