"""Quality windows of a stream: stored like batch results, flags explained, alerts on the rate."""

from __future__ import annotations

import asyncio

import numpy as np
import orjson
import pandas as pd
import pytest

from mloop import data, monitoring
from mloop.core.errors import InvalidInput
from mloop.data import checks
from mloop.streams import StreamQuality, StreamRunner
from tests.streams.conftest import fresh, publish, require, url_for


def _normal(n: int, seed: int, start: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.lognormal(3.0, 0.4, n).round(2),
            "items": rng.integers(1, 5, n).astype(float),
            "merchant": rng.choice(["m1", "m2", "m3"], n),
        },
        index=[f"tx{start + i}" for i in range(n)],
    )


def _quality(**options) -> StreamQuality:
    suite = data.Suite(
        "tx-stream",
        [checks.between("amount", 0, 5000), checks.in_set("merchant", ["m1", "m2", "m3"])],
    )
    detector = data.RobustDetector(features=["amount", "items"]).fit(_normal(2000, 1))
    return StreamQuality("tx-stream", suite=suite, detector=detector, **options)


def test_each_full_window_is_a_stored_result_with_its_flagged_records_and_why() -> None:
    quality = _quality(window=200)
    batch = _normal(450, 2)
    batch.loc["tx7", "amount"] = 9000.0  # impossible amount: the check and the detector
    batch.loc["tx300", "merchant"] = "m-new"  # a merchant never seen: the check only
    closed = quality.observe(batch.iloc[:150]) + quality.observe(batch.iloc[150:])
    assert [w.rows for w in closed] == [200, 200]
    assert quality.pending == 50
    first, second = closed
    assert "anomaly: score" in " ".join(first.flagged["tx7"])
    assert any(r.startswith("check between(amount)") and "9000" in r for r in first.flagged["tx7"])
    assert second.flagged["tx300"] == ["check in_set(merchant) (merchant = 'm-new')"]
    assert first.failed_checks == ["between(amount)"]
    stored = data.results(suite="tx-stream")
    assert sorted(r.id for r in stored) == sorted(w.result.id for w in closed)
    anomaly = data.get_result(first.result.id)["anomaly(RobustDetector)"]
    assert anomaly.kind == "anomaly" and anomaly.failed_count == first.anomalies >= 1
    assert anomaly.samples[0]["index"] == "tx7" and "amount = 9000" in anomaly.samples[0]["why"]
    assert "anomaly(RobustDetector)" in data.get_result(first.result.id).to_html()
    last = quality.flush()
    assert last is not None and last.rows == 50 and quality.pending == 0
    assert quality.flush() is None


def test_an_anomaly_rate_above_the_bound_fires_an_alert_and_resolves_after() -> None:
    quality = _quality(window=100, max_anomaly_rate=0.05, subject="tx-scorer")
    calm = quality.observe(_normal(100, 3, 0))
    burst = _normal(100, 4, 100)
    burst.iloc[:12, burst.columns.get_loc("amount")] = 4000.0  # 12% of the window
    loud = quality.observe(burst)
    after = quality.observe(_normal(100, 5, 200))
    assert calm[0].alerts == [] and calm[0].anomaly_rate <= 0.05
    assert loud[0].anomaly_rate >= 0.12
    assert [a["status"] for a in loud[0].alerts] == ["firing"]
    assert loud[0].alerts[0]["metric"] == "quality.anomaly_rate"
    assert [a["status"] for a in after[0].alerts] == ["resolved"]
    (alert,) = [a for a in monitoring.list_alerts() if a.model_name == "tx-scorer"]
    assert alert.status == "resolved" and alert.value is not None and alert.value <= 0.05
    assert data.get_result(loud[0].result.id)["anomaly(RobustDetector)"].success is False


def test_bad_settings_are_refused_with_the_fix() -> None:
    with pytest.raises(InvalidInput, match="suite=, a detector="):
        StreamQuality("q")
    with pytest.raises(InvalidInput, match="not fitted"):
        StreamQuality("q", detector=data.RobustDetector())
    with pytest.raises(InvalidInput, match="window=0"):
        StreamQuality("q", suite=data.Suite("q"), window=0)
    with pytest.raises(InvalidInput, match="max_anomaly_rate=2"):
        StreamQuality("q", suite=data.Suite("q"), max_anomaly_rate=2)
    unsaved = data.Suite("never-saved").validate(_normal(5, 0), save=False, allow_empty=True)
    with pytest.raises(InvalidInput, match="save the suite first"):
        data.save_result(unsaved)


def test_a_runner_feeds_its_records_to_the_quality_windows(champion: str, flights) -> None:
    require("redis")
    source, sink = url_for("redis", fresh("qin")), url_for("redis", fresh("qout"))
    detector = data.RobustDetector(features=["distance", "hour"]).fit(flights.train)
    suite = data.Suite("flights-stream", [checks.between("distance", 0, 5000)])
    quality = StreamQuality("flights-stream", suite=suite, detector=detector, window=40)
    rows = flights.test.head(100).to_dict(orient="records")
    records = [{"request_id": f"f{i}", **row} for i, row in enumerate(rows)]
    records[5]["distance"] = 25_000.0  # no flight from New York is that long

    async def scenario() -> object:
        runner = StreamRunner(champion, source, sink, idle_seconds=1.5, batch=32, quality=quality)
        task = asyncio.create_task(runner.run())
        await asyncio.sleep(0.5)
        await publish(source, [orjson.dumps(r) for r in records])
        return await task

    metrics = asyncio.run(scenario())
    assert metrics.scored == 100
    assert metrics.quality_windows == 3  # 40 + 40 + the last 20 at the end of the run
    assert metrics.anomalies >= 1 and metrics.flagged >= 1
    windows = data.results(suite="flights-stream")
    assert sorted(r.num_rows for r in windows) == [20, 40, 40]
    assert sum(r["between(distance)"].failed_count for r in windows) == 1
    flagged = [s["index"] for r in windows for s in r["anomaly(RobustDetector)"].samples]
    assert "f5" in flagged
