"""``mloop models promote``: a gate from YAML or module:attr, refusal, forcing with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app
from mloop.store import audit, get_store
from tests.evaluation.conftest import FEATURES, register

GATE = """
gate: delays
rules:
  - rule: min_metric
    metric: roc_auc
    value: 0.7
  - rule: max_regression
    metric: roc_auc
    max_drop: 0.01
"""


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_promote_passes_refuses_and_forces(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any, weak_model: Any
) -> None:
    _, test = split
    register(good_model, "delays", test[FEATURES].head())
    register(weak_model, "delays", test[["month"]].head())
    Path("gate.yaml").write_text(GATE)
    test.to_parquet("test.parquet")
    common = ["--gate", "gate.yaml", "--data", "test.parquet", "--target", "late"]

    passed = _invoke("models", "promote", "delays", "1", *common, "--json")
    assert passed.exit_code == 0, passed.output
    verdict = json.loads(passed.output)
    assert verdict["passed"] is True and verdict["rules"][1]["skipped"] is True

    refused = _invoke("models", "promote", "delays", "2", *common)
    assert refused.exit_code == 1
    assert "FAIL" in refused.output and "max_regression(roc_auc)" in refused.output
    assert mloop.registry.get_version("delays", "champion").version == 1

    unforced = _invoke("models", "promote", "delays", "2", *common, "--force")
    assert unforced.exit_code == 1
    forced = _invoke(
        "models", "promote", "delays", "2", *common, "--force", "--reason", "rollback drill"
    )
    assert forced.exit_code == 0, forced.output
    assert "delays@champion -> version 2 (forced)" in forced.output
    entry = audit.entries(get_store(), object_id="delays", limit=1)[0]
    assert (entry.action, entry.reason) == ("promote.forced", "rollback drill")


def test_promote_with_a_registered_dataset_and_a_gate_module(
    mloop_home: Path, split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    register(good_model, "delays", test[FEATURES].head())
    mloop.data.register("flights-test", test)
    (mloop_home / "gates.py").write_text(
        "from mloop.evaluation import Gate, rules\ngate = Gate([rules.min_metric('roc_auc', 0.7)])\n"
    )
    result = _invoke(
        "models",
        "promote",
        "delays",
        "1",
        "--alias",
        "prod",
        "--gate",
        "gates:gate",
        "--data",
        "flights-test@1",
        "--target",
        "late",
    )
    assert result.exit_code == 0, result.output
    assert mloop.registry.get_version("delays", "prod").version == 1


def test_promote_without_data_for_the_gate_is_an_error(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any
) -> None:
    _, test = split
    register(good_model, "delays", test[FEATURES].head())
    Path("gate.yaml").write_text(GATE)
    result = _invoke("models", "promote", "delays", "1", "--gate", "gate.yaml")
    assert result.exit_code == 1
    assert "pass --data" in str(result.exception) or "pass --data" in result.output
