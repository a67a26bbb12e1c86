"""Alert rules: k of n windows, de-duplicated firing, resolution, history and notifiers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from mloop.core.errors import InvalidInput
from mloop.monitoring import (
    AlertRule,
    DatasetDrift,
    DriftReport,
    FileNotifier,
    WebhookNotifier,
    Window,
    alert_history,
    list_alerts,
)
from mloop.monitoring.alerts import evaluate_rules


def _window(i: int, share: float, accuracy: float | None = None) -> Window:
    drifted = round(share * 10)
    report = DriftReport(
        features={},
        dataset=DatasetDrift(10, drifted, share, share, 0.5, share >= 0.5),
        findings=[],
        reference_rows=1000,
        current_rows=100,
    )
    day = 86_400_000
    return Window(
        id=f"w{i}",
        model_name="m",
        model_version="1",
        start=i * day,
        end=(i + 1) * day,
        num_rows=100,
        drift=report,
        performance={} if accuracy is None else {"accuracy": accuracy},
        baseline={"accuracy": 0.9},
    )


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def __call__(self, notification: dict) -> str:
        self.sent.append(notification)
        return "sent"


def test_a_rule_fires_in_k_of_n_windows_once_then_repeats_silently_then_resolves(
    db_url: str,
) -> None:
    rule = AlertRule("drift", "drift.share", 0.3, k=2, n=3)
    recorder = Recorder()
    shares = [0.1, 0.4, 0.1, 0.5, 0.6, 0.2, 0.1, 0.0]
    windows = [_window(i, s) for i, s in enumerate(shares)]
    fired_at = []
    for i in range(len(windows)):
        sent = evaluate_rules("m", [rule], windows[: i + 1], [recorder])
        fired_at.append([n["status"] for n in sent])
    # windows 0..3: the condition holds in 0.4 and 0.5 -> 2 of the last 3 at window 3
    assert fired_at == [[], [], [], ["firing"], [], [], ["resolved"], []]
    assert [n["status"] for n in recorder.sent] == ["firing", "resolved"]
    alerts = list_alerts("m")
    assert len(alerts) == 1
    assert alerts[0].status == "resolved"
    assert alerts[0].occurrences == 3  # fired at window 3, repeated at 4 and 5
    events = [e["event"] for e in reversed(alert_history("m"))]
    assert events == ["fired", "repeated", "repeated", "resolved"]
    assert alert_history("m")[0]["notified"] == {"recorder": "sent"}
    assert "drift.share >= 0.3 in 2 of the last 3 windows" in recorder.sent[0]["message"]


def test_performance_drop_against_the_reference_and_unknown_values() -> None:
    rule = AlertRule("accuracy drop", "performance_drop.accuracy", 0.05, severity="critical")
    no_labels = [_window(0, 0.0)]
    assert evaluate_rules("m", [rule], no_labels) == []  # no labels yet: never fires
    sent = evaluate_rules("m", [rule], [_window(1, 0.0, accuracy=0.8)])
    assert sent[0]["severity"] == "critical"
    assert sent[0]["value"] == pytest.approx(0.1)
    assert list_alerts(status="firing")[0].rule == "accuracy drop"


def test_file_notifier_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "alerts" / "log.jsonl"
    rule = AlertRule("drift", "drift.share", 0.3)
    evaluate_rules("m", [rule], [_window(0, 0.6)], [FileNotifier(path)])
    evaluate_rules("m", [rule], [_window(0, 0.6), _window(1, 0.0)], [FileNotifier(path)])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["firing", "resolved"]
    assert lines[0]["rule"] == "drift" and lines[0]["model"] == "m"


def test_webhook_posts_json_and_a_broken_channel_is_recorded_not_raised() -> None:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook = WebhookNotifier(f"http://127.0.0.1:{server.server_port}/hook")
        broken = WebhookNotifier("http://127.0.0.1:9/nothing-listens", timeout=0.5, name="broken")
        rule = AlertRule("drift", "drift.share", 0.3)
        evaluate_rules("m", [rule], [_window(0, 0.9)], [hook, broken])
    finally:
        server.shutdown()
    assert received[0]["status"] == "firing"
    assert received[0]["text"].startswith("[warning] FIRING: drift on model m")
    outcome = alert_history("m")[0]["notified"]
    assert outcome["webhook"] == "sent (204)"
    assert outcome["broken"].startswith("error: ConnectError")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "drfit.share"}, "Did you mean .drift.share."),
        ({"metric": "acuracy"}, "not known"),
        ({"op": "=="}, "op '==' is not one of"),
        ({"k": 3, "n": 2}, "1 <= k <= n"),
        ({"threshold": float("nan")}, "finite number"),
        ({"severity": "warn"}, "Did you mean 'warning'"),
    ],
)
def test_bad_rules_are_refused_with_the_fix(kwargs: dict, message: str) -> None:
    arguments = {"name": "r", "metric": "drift.share", "threshold": 0.3, **kwargs}
    with pytest.raises(InvalidInput, match=message):
        AlertRule(**arguments)


def test_bad_webhook_url_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an http"):
        WebhookNotifier("ftp://example.com")
