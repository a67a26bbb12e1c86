"""Step 6: monitoring windows and the retraining policy that retrains through the pipeline.

Each replayed month becomes a window of the prediction log per served version: drift
against the version's reference (its validation rows), accuracy once the delayed labels
arrived, the KPI and the alert rules. The policy then takes one step: on drift of the
temperature or dew point in 2 of the champion's last 3 windows, or a fall of its ROC AUC
by 0.05, it retrains through the training pipeline on a point-in-time training set up to
the start of the champion's latest labelled month, compares challenger and champion on
that month, and promotes the challenger only when it is better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.demo.gate import delay_cost
from mloop.demo.scenario import MODEL, WEATHER, Scenario

if TYPE_CHECKING:
    from mloop.loop import RetrainingPolicy, TrainingContext
    from mloop.monitoring import Monitor, Reference, Window

POLICY = "flight-delays-monthly"


def make_monitor(scenario: Scenario, alerts_file: Path) -> Monitor:
    """The model's monitor: weather drift as a distance, the KPI, two alert rules."""
    from mloop import monitoring

    release = scenario.params()["release"]
    threshold = scenario.alert_threshold
    weather = [*WEATHER, "pressure_change_3h"]
    # Month-to-month weather inside January–March already moves about half a reference
    # standard deviation, so weather drift is a Wasserstein distance above 0.6 of them.
    return monitoring.Monitor(
        MODEL,
        stats=dict.fromkeys(weather, "wasserstein"),
        thresholds=dict.fromkeys(weather, 0.6),
        kpis={
            "missed_delay_cost": delay_cost(release),
            "alert_rate": lambda rows: float((rows["proba"] >= threshold).mean()),
        },
        alerts=[
            monitoring.AlertRule("temperature drift", "drift.temp", 1.0),
            monitoring.AlertRule(
                "accuracy drop", "performance_drop.roc_auc", 0.05, severity="critical"
            ),
        ],
        notifiers=[monitoring.FileNotifier(str(alerts_file))],
    )


@dataclass
class PipelineRetraining:
    """The policy's training step: the demo's training pipeline with ``until`` = the cut-off."""

    scenario: Scenario
    deployment: str
    cards: Path
    runs: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, context: TrainingContext) -> int:
        from mloop.demo.training import catalog, model_card_html, training_pipeline
        from mloop.pipelines import run

        params = self.scenario.params()
        params["until"] = context.until_datetime.isoformat()
        params["release"].update(promote=False, deployment=self.deployment)
        result = run(training_pipeline(), catalog=catalog(), params=params, name="training")
        released = result.outputs["release"]
        version = int(released["version"])
        card = write_card(self.cards, version, model_card_html(version))  # after its lineage
        self.runs.append(
            {
                "decision": context.decision_id,
                "until": params["until"],
                "version": version,
                "run_id": result.run_id,
                "nodes": {n: s.status for n, s in result.nodes.items()},
                "seconds": round(result.seconds, 1),
                "card": str(card),
                "validation_roc_auc": released.get("roc_auc"),
            }
        )
        return version


def write_card(folder: Path, version: int, html: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{MODEL}-v{version}-card.html"
    path.write_text(html)
    return path


# the weighted policy: drifted features must hold this share of the model's importance
IMPORTANCE_SHARE = 0.3


def policy_triggers(weighted: bool = False) -> list[Any]:
    """The demo policy's triggers: weather drift (unweighted: temperature or dew point drifted;
    weighted: drifted features hold 30% of the model's importance) in 2 of the champion's
    last 3 windows, or its ROC AUC fell by 0.05.

    (typed Any: mloop.loop's Trigger protocol declares ``kind`` settable, the triggers
    expose it read-only, so mypy rejects a list of them)
    """
    from mloop import loop

    drift = (
        loop.DriftTrigger(k=2, n=3, importance=IMPORTANCE_SHARE)
        if weighted
        else loop.DriftTrigger(k=2, n=3, columns=["temp", "dewp"])
    )
    return [drift, loop.AccuracyDrop("roc_auc", drop=0.05)]


POLICIES = {
    "unweighted: temperature or dew point drifted (the demo's policy)": False,
    f"weighted: drifted features hold {IMPORTANCE_SHARE:.0%} of the model's importance": True,
}


def retrains_by_policy(
    windows: list[tuple[int, Window]], reference_of: Callable[[str], Reference | None]
) -> list[dict[str, Any]]:
    """The months on which each policy would have started a retraining over the replay.

    Walks the served model's window of each month in order, as the policy's step does at
    each month's end: the triggers see the windows of the version serving (a new champion
    starts afresh), and a policy retrains each month its triggers fire — also after a
    rejected challenger, as the demo's policy does. It judges the windows that were
    actually served, so after a month where a policy would have retrained but the demo did
    not, it goes on judging the model that kept serving: a count of decisions, not a
    second replay.
    """
    from mloop.loop.triggers import TriggerContext

    served: dict[int, Window] = {}
    for month, window in windows:  # the month's busiest window is the served model's
        if month not in served or window.num_rows > served[month].num_rows:
            served[month] = window
    rows = []
    for name, weighted in POLICIES.items():
        triggers = policy_triggers(weighted)
        seen: list[Window] = []
        months, reasons = [], []
        for month in sorted(served):
            window = served[month]
            if seen and seen[-1].model_version != window.model_version:
                seen = []  # a new champion: the policy looks at its windows only
            seen.append(window)
            context = TriggerContext(
                MODEL,
                int(window.model_version),
                list(seen),
                now=window.end,
                reference=reference_of(window.model_version),
            )
            fired = next((f for t in triggers if (f := t.check(context)) is not None), None)
            if fired is not None:
                months.append(month)
                reasons.append(f"{month}: {fired.reason}")
        rows.append({"policy": name, "retrains": len(months), "months": months, "why": reasons})
    return rows


def make_policy(monitor: Monitor, training: PipelineRetraining) -> RetrainingPolicy:
    from mloop import loop

    triggers = policy_triggers(weighted=False)
    return loop.RetrainingPolicy(
        POLICY,
        MODEL,
        train=training,
        triggers=triggers,
        monitor=monitor,
        approval="auto",
        min_labelled=200,
    )
