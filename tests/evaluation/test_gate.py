"""Gates: each rule's verdict and reason, YAML definitions, and promotion through the registry."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mloop
from mloop.core.errors import GateFailed, InvalidInput, NotFound
from mloop.data import Suite, checks
from mloop.evaluation import KPI, Gate, GateResult, load_gate, rules
from mloop.store import audit, get_store
from tests.evaluation.conftest import FEATURES, cost_of_missed_delays, register
from tests.registry.models_for_tests import ThresholdModel

COST = KPI(cost_of_missed_delays, greater_is_better=False)


def _verdicts(result: GateResult) -> dict[str, bool]:
    return {r.rule: r.passed for r in result.rules}


def test_each_rule_passes_or_fails_with_a_reason(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any, weak_model: Any
) -> None:
    _, test = split
    gate = Gate(
        [
            rules.min_metric("roc_auc", 0.8),
            rules.max_metric("log_loss", 0.3),
            rules.max_regression("roc_auc", 0.01),
            rules.max_fairness_difference("origin", 0.5),
            rules.kpi("cost", COST, max=1e9, max_regression=0.0),
        ]
    )
    good = gate.check(good_model, weak_model, data=test, target="late")
    assert good.passed, good.failures
    weak = gate.check(weak_model, good_model, data=test, target="late")
    assert not weak.passed
    verdicts = _verdicts(weak)
    assert verdicts["min_metric(roc_auc)"] is False
    assert verdicts["max_regression(roc_auc)"] is False
    assert verdicts["kpi(cost)"] is False
    assert verdicts["max_fairness_difference(origin, demographic_parity_difference)"] is True
    failures = "\n".join(weak.failures)
    assert "is below the minimum 0.8" in failures
    assert "got worse against the incumbent" in failures
    assert weak.incumbent is not None
    assert weak.candidate["metrics"]["roc_auc"] < weak.incumbent["metrics"]["roc_auc"]


def test_a_regression_rule_without_incumbent_is_skipped_and_passes(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    result = Gate([rules.max_regression("roc_auc", 0.0)]).check(
        good_model, None, data=test, target="late"
    )
    assert result.passed and result.rules[0].skipped
    assert "no incumbent" in result.rules[0].message


def test_relative_regression_and_lower_is_better_metrics(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any, weak_model: Any
) -> None:
    _, test = split
    loose = Gate([rules.max_regression("log_loss", 2.0, relative=True)])
    strict = Gate([rules.max_regression("log_loss", 0.01, relative=True)])
    assert loose.check(weak_model, good_model, data=test, target="late").passed
    result = strict.check(weak_model, good_model, data=test, target="late")
    assert not result.passed and "(relative)" in result.failures[0]
    # moving to a better model never counts as a regression
    assert strict.check(good_model, weak_model, data=test, target="late").passed


def test_a_rule_on_an_undefined_metric_fails(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, test = split
    result = Gate([rules.min_metric("roc_auc", 0.5)]).check(
        ThresholdModel("dep_delay", 15), None, data=test, target="late"
    )
    assert not result.passed
    assert "roc_auc is undefined" in result.failures[0] and "no predict_proba" in result.failures[0]


def test_fairness_rule_fails_above_the_limit() -> None:
    data = pd.DataFrame(
        {"group": list("aaaabbbb"), "x": [1, 1, 1, 0, 0, 0, 0, 1], "y": [1, 1, 0, 0, 0, 0, 1, 1]}
    )
    gate = Gate([rules.max_fairness_difference("group", 0.25)])
    result = gate.check(ThresholdModel("x", 0.5), None, data=data, target="y")
    # selection rates 3/4 and 1/4: a difference of 1/2
    assert not result.passed
    assert result.rules[0].observed == pytest.approx(0.5)
    assert "is 0.5; at most 0.25 allowed" in result.failures[0]


def test_checks_passed_runs_a_data_suite_on_the_gate_data(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    suite = Suite("flights", [checks.not_null("dep_delay"), checks.between("distance", 0, 5000)])
    assert Gate([rules.checks_passed(suite)]).check(good_model, data=test, target="late").passed
    broken = test.copy()
    broken.loc[broken.index[:4], "distance"] = 99_999
    result = Gate([rules.checks_passed(suite)]).check(good_model, data=broken, target="late")
    assert not result.passed
    assert "between(distance)" in result.failures[0] and "4 rows" in result.failures[0]
    suite.save()
    stored = Gate([rules.checks_passed("flights")]).check(good_model, data=broken, target="late")
    assert not stored.passed


def test_promotion_is_blocked_by_a_failing_gate_and_forced_only_with_a_reason(
    db_url: str, split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any, weak_model: Any
) -> None:
    _, test = split
    register(good_model, "delays", test[FEATURES].head())
    register(weak_model, "delays", test[["month"]].head())
    gate = Gate(
        [rules.min_metric("roc_auc", 0.7), rules.max_regression("roc_auc", 0.01)], name="delays"
    )
    first = mloop.registry.promote("delays", 1, gate=gate, data=test, target="late")
    assert first.aliases == ("champion",)
    with pytest.raises(GateFailed) as refused:
        mloop.registry.promote("delays", 2, gate=gate, data=test, target="late")
    message = str(refused.value)
    assert "min_metric(roc_auc)" in message and "max_regression(roc_auc)" in message
    assert (
        isinstance(refused.value.results, GateResult) and len(refused.value.results.failures) == 2
    )
    assert mloop.registry.get_version("delays", "champion").version == 1
    forced = mloop.registry.promote(
        "delays", 2, gate=gate, data=test, target="late", force=True, reason="incident 42"
    )
    assert forced.version == 2
    entry = audit.entries(get_store(), object_id="delays", limit=1)[0]
    assert (entry.action, entry.reason) == ("promote.forced", "incident 42")
    assert entry.details is not None and entry.details["gate"]["passed"] is False
    assert entry.details["gate"]["incumbent"]["model_version"] == "delays/1"
    # the verdict is recorded on the candidate version, for its model card
    assert "mloop.gate" in mloop.registry.get_version("delays", 2).tags


def test_gates_round_trip_through_yaml_and_load_by_module_attribute(
    mloop_home: Path, split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    (mloop_home / "delay_gates.py").write_text(
        "from mloop.evaluation import Gate, KPI, rules\n"
        "def cost(y_true, y_pred, data):\n"
        "    return float(((y_true == 1) & (y_pred == 0)).sum())\n"
        "cost_kpi = KPI(cost, greater_is_better=False)\n"
        "gate = Gate([rules.min_metric('roc_auc', 0.7)], name='from-module')\n"
    )
    text = """
gate: delays
threshold: 0.4
rules:
  - rule: min_metric
    metric: roc_auc
    value: 0.7
  - rule: max_regression
    metric: roc_auc
    max_drop: 0.01
  - rule: kpi
    name: missed
    function: delay_gates:cost_kpi
    max: 100000
"""
    Path("gate.yaml").write_text(text)
    gate = load_gate("gate.yaml")
    assert gate.name == "delays" and gate.threshold == 0.4 and len(gate.rules) == 3
    assert Gate.from_yaml(gate.to_yaml()).to_dict() == gate.to_dict()
    result = gate.check(good_model, None, data=test, target="late")
    assert result.passed, result.failures
    assert result.candidate["kpis"]["missed"] > 0
    assert load_gate("delay_gates:gate").name == "from-module"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules:\n  - rule: min_metrc\n    metric: f1\n    value: 1",
            r"rule kind 'min_metrc' is unknown\. Did you mean 'min_metric'",
        ),
        (
            "rules:\n  - rule: min_metric\n    metrc: f1\n    value: 1",
            r"min_metric has no setting 'metrc'\. Did you mean 'metric'",
        ),
        ("rules:\n  - rule: min_metric\n    metric: f1\n    value: high", "is not a number"),
        ("rule: []", "a gate needs a 'rules:' list"),
        ("rules: []", "has no rules"),
        ("rules:\n  - rule: kpi\n    name: cost\n    max: 3", "needs the KPI function"),
    ],
)
def test_bad_gate_definitions_get_clear_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Gate.from_yaml(text)


def test_bad_rules_and_gate_references_are_refused(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    with pytest.raises(
        InvalidInput, match=r"'roc' is not a metric or KPI .* Did you mean 'roc_auc'"
    ):
        Gate([rules.min_metric("roc", 0.5)]).check(good_model, data=test, target="late")
    with pytest.raises(InvalidInput, match="fairness metric 'parity' is unknown"):
        rules.max_fairness_difference("origin", 0.1, metric="parity")
    with pytest.raises(InvalidInput, match="max_drop -1 is negative"):
        rules.max_regression("f1", -1)
    with pytest.raises(InvalidInput, match="not a rule"):
        Gate(["min_metric"])  # type: ignore[list-item]
    with pytest.raises(NotFound, match=r"gate file 'missing\.yaml' does not exist"):
        load_gate("missing.yaml")
    with pytest.raises(InvalidInput, match="cannot import module 'no_such_module'"):
        load_gate("no_such_module:gate")
    with pytest.raises(InvalidInput, match="gate data is missing"):
        Gate([rules.min_metric("f1", 0.1)]).check(good_model, target="late")
    assert math.isfinite(
        Gate([rules.min_metric("f1", 0.1)])
        .check(good_model, data=test, target="late")
        .rules[0]
        .observed
        or 0
    )
