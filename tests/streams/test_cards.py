"""The card-transaction example: each injected pattern is found, with floors on precision
and recall, and normal payments are rarely flagged."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mloop import data
from mloop.cli.main import app
from mloop.core.errors import InvalidInput
from mloop.demo.cards import PATTERNS, generate, run_cards


def test_the_generator_injects_each_documented_pattern_in_arrival_order() -> None:
    stream = generate(10_000, seed=3)
    counts = stream["pattern"].value_counts()
    assert set(counts.index) == {"normal", *PATTERNS}
    assert counts["impossible_amount"] == 20 and counts["clock_skew"] == 30
    assert stream["sent_at"].is_monotonic_increasing
    impossible = stream[stream["pattern"] == "impossible_amount"]["amount"]
    assert ((impossible <= 0) | (impossible >= 60_000)).all()
    skew = (stream["sent_at"] - stream["ts"]).dt.total_seconds().abs()
    assert (skew[stream["pattern"] == "clock_skew"] >= 7_000).all()
    assert (skew[stream["pattern"] == "normal"] <= 3).all()
    burst = stream[stream["pattern"] == "burst"].groupby("account")["ts"]
    assert ((burst.max() - burst.min()).dt.total_seconds() <= 180).all()
    assert stream["request_id"].is_unique
    with pytest.raises(InvalidInput, match="n >= 1000"):
        generate(10)


def test_the_detector_and_the_suite_find_the_injected_patterns_above_the_floors() -> None:
    report = run_cards(20_000, seed=0)
    rows = {row["pattern"]: row for row in report.table()}
    assert rows["burst"]["injected"] >= 100
    assert rows["burst"]["precision"] >= 0.9 and rows["burst"]["recall"] >= 0.65
    assert rows["impossible_amount"]["recall"] == 1.0  # the suite's range check
    assert rows["impossible_amount"]["precision"] >= 0.6  # the detector also flags huge ones
    assert rows["impossible_amount"]["detector_recall"] >= 0.3  # the huge ones only
    for pattern in ("unseen_merchant", "clock_skew"):
        assert rows[pattern]["precision"] == 1.0 and rows[pattern]["recall"] == 1.0
    assert rows["normal"]["false_positive_rate"] <= 0.003
    assert report.set_aside == 100  # the impossible amounts and the skewed clocks
    stored = data.results(suite="cards")
    assert len(stored) == report.windows == 11


def test_the_command_prints_the_table() -> None:
    result = CliRunner().invoke(app, ["stream", "cards", "--records", "5000", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["pattern"]: row for row in json.loads(result.output)}
    assert set(rows) == {*PATTERNS, "normal"}
    assert rows["clock_skew"]["recall"] == 1.0
