"""The MLflow-client benchmark runs end to end at tiny sizes against mloop only.

No MLflow server is started (benchmarks/server measures against it); the stock client
comes from the tests' own environment (tests/server/mlflow_api/client.py). What is checked is
that the workload runs, finds every value it logged, and reports its figures.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.server.mlflow_api.client import client_python

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "server" / "bench_mlflow_client.py"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the first run installs the MLflow client (minutes)
def test_the_mlflow_client_benchmark_runs_against_mloop() -> None:
    spec = importlib.util.spec_from_file_location("bench_mlflow_client", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sizes = ["--params", "3", "--metrics", "2", "--steps", "3", "--batch-params", "4"]
    sizes += ["--batch-metrics", "5", "--batch-steps", "6", "--runs", "8"]
    result = module.main(
        ["--only", "mloop", "--client-python", str(client_python()), "--no-save", *sizes]
    )
    mloop = result["mloop"]
    assert mloop["per_call"]["values"] == 3 + 2 * 3
    assert mloop["log_batch"]["values"] == 4 + 5 * 6
    assert mloop["create_runs"]["runs"] == 8
    # gbm runs (odd i) with auc = (i * 37 % 100) / 100 above 0.2: i = 1 (.37), 5 (.85), 7 (.59)
    assert mloop["search_all"]["runs"] == 3 == mloop["search_first_100"]["runs"]
    assert mloop["server_rss_mb"]["after"] > 0
    assert "mlflow" not in result
