"""The loop through the real serving path: the server logs, the policy retrains, approval swaps.

A champion is served (in process, with the server's batching, prediction log and alias
polling); its traffic moves; feedback arrives through ``/v1/feedback``; the monitor makes
the window, the policy proposes a challenger and waits; ``approve`` moves the alias, and
the running server answers with the new version without a restart.
"""

from __future__ import annotations

import time

import pandas as pd

import mloop
from mloop import loop, serving
from mloop.core.clock import now_ms
from mloop.monitoring import Monitor, set_reference
from tests.monitoring.synthetic import FEATURES, register, rows


def test_a_served_model_is_retrained_approved_and_hot_swapped() -> None:
    register(rows(2_000, 0))
    mloop.registry.set_alias("m", "champion", 1)
    set_reference("m", 1, rows(800, 1), target="y")
    started = now_ms()
    traffic = rows(1_200, 2, shift=1.0, cut=1.3)
    graph = serving.Graph.from_model("models:/m@champion", poll_seconds=0.2)
    with graph.test_client(flush_seconds=0.2) as client:
        answer = client.predict({"records": traffic[FEATURES].to_dict("records")})
        assert answer["model_version"] == "1"
        feedback = client.post(
            "/v1/feedback",
            json={"request_ids": answer["request_ids"], "labels": traffic["y"].tolist()},
        )
        assert feedback.status_code == 200, feedback.body
    ended = now_ms() + 1
    monitor = Monitor("m")
    (window,) = monitor.run(started, ended, every="1D")
    assert (window.num_rows, window.labelled_rows) == (1_200, 1_200)
    assert window.drift.features["x"].drifted is True

    def train(context: loop.TrainingContext) -> object:
        fresh = rows(3_000, 3, shift=1.0, cut=1.3)
        context.set_reference(fresh.sample(500, random_state=0), target="y")
        return register(fresh)

    policy = loop.RetrainingPolicy(
        "served",
        "m",
        train=train,
        triggers=[loop.DriftTrigger(k=1, n=1)],
        monitor=monitor,
        approval="manual",
        metric="accuracy",
    )
    with graph.test_client(flush_seconds=0.2) as client:
        decision = policy.step()
        assert decision is not None and decision.status == "awaiting_approval"
        assert (
            client.predict({"records": traffic[FEATURES].head(3).to_dict("records")})[
                "model_version"
            ]
            == "1"
        )
        loop.approve(decision.id, reason="checked", actor="ops")
        deadline, version = time.monotonic() + 30, "1"
        while version != "2" and time.monotonic() < deadline:
            time.sleep(0.2)
            version = client.predict({"records": traffic[FEATURES].head(3).to_dict("records")})[
                "model_version"
            ]
    assert version == "2"  # the running server swapped to the approved challenger
    assert pd.Series([d.status for d in loop.decisions("m")]).tolist() == ["promoted"]
