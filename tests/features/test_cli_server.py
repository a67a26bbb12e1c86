"""The ``mloop features`` commands and the ``POST /features/online`` endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mloop import features as fs
from mloop.cli.main import app
from mloop.server.features import create_app

DEFINITIONS = """
from mloop import features as fs

station = fs.Entity("station", join_keys=["station"])
weather = fs.FeatureView(
    "weather", entity=station, source="{path}", timestamp="ts", ttl="2h",
    transforms=[fs.delta("temp", "1h", name="temp_change_1h")],
)
model = fs.FeatureService("model", features=["weather:temp", "weather:temp_change_1h"])
"""


@pytest.fixture
def definitions(mloop_home: Path) -> Path:
    data = pd.DataFrame(
        {
            "station": ["a", "a", "b"],
            "ts": pd.to_datetime(
                ["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 00:30"], utc=True
            ),
            "temp": [1.0, 3.0, 10.0],
        }
    )
    data.to_parquet(mloop_home / "weather.parquet")
    path = mloop_home / "defs.py"
    path.write_text(DEFINITIONS.format(path=mloop_home / "weather.parquet"))
    return path


def test_apply_list_materialize_and_stats_from_the_command_line(definitions: Path) -> None:
    runner = CliRunner()
    applied = runner.invoke(app, ["features", "apply", str(definitions), "--json"])
    assert applied.exit_code == 0, applied.output
    assert {(r["kind"], r["name"], r["version"]) for r in json.loads(applied.output)} == {
        ("entity", "station", 1),
        ("feature_view", "weather", 1),
        ("feature_service", "model", 1),
    }
    listed = runner.invoke(app, ["features", "list", "--kind", "feature_view", "--json"])
    assert [r["features"] for r in json.loads(listed.output)] == ["temp, temp_change_1h"]
    done = runner.invoke(app, ["features", "materialize", "--end", "2024-01-02", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)[0]["entities written"] == 2
    stats = runner.invoke(app, ["features", "stats", "weather", "--json"])
    assert stats.exit_code == 0, stats.output
    profile = json.loads(stats.output)["profile"]
    assert profile["num_rows"] == 2 and set(profile["columns"]) == {"temp", "temp_change_1h"}
    shown = runner.invoke(app, ["features", "stats", "weather"])
    assert shown.exit_code == 0 and "weather v1: 2 entities" in shown.output


def test_cli_errors_are_one_line_messages(definitions: Path) -> None:
    result = CliRunner().invoke(app, ["features", "stats", "nowhere"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception) and "no materialization" in str(result.exception)


def test_the_http_endpoint_serves_online_features(definitions: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["features", "apply", str(definitions)])
    runner.invoke(app, ["features", "materialize", "--end", "2024-01-02"])
    store = fs.FeatureStore()
    with TestClient(create_app(store)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").status_code == 200
        answer = client.post(
            "/features/online",
            json={"service": "model", "entities": {"station": ["a", "b", "zz"]}},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["features"] == {
            "station": ["a", "b", "zz"],
            "temp": [None, None, None],
            "temp_change_1h": [None, None, None],
        }
        assert body["status"]["temp"] == [
            "EXPIRED",
            "EXPIRED",
            "NOT_FOUND",
        ]  # 2024 data, ttl 2h, read now
        rows = client.post(
            "/features/online", json={"features": ["weather:temp"], "entities": [{"station": "a"}]}
        )
        assert rows.json()["event_timestamps"]["weather"] == [1704070800000000]
        unknown = client.post(
            "/features/online", json={"features": ["weather:tmp"], "entities": {"station": ["a"]}}
        )
        assert unknown.status_code == 404 and "Did you mean 'temp'" in unknown.json()["detail"]
        bad = client.post(
            "/features/online", json={"features": ["weather:temp"], "entities": {"place": ["a"]}}
        )
        assert bad.status_code == 422 and "lack the field 'station'" in bad.json()["detail"]


def test_online_values_inside_the_ttl_are_served(definitions: Path) -> None:
    store = fs.FeatureStore()
    CliRunner().invoke(app, ["features", "apply", str(definitions)])
    store.materialize(None, pd.Timestamp("2024-01-02", tz="UTC").to_pydatetime())
    at = pd.Timestamp("2024-01-01 01:30", tz="UTC").to_pydatetime()
    answer = store.get_online_features({"station": ["a", "b"]}, service="model", now=at)
    assert answer.to_dict() == {
        "station": ["a", "b"],
        "temp": [3.0, 10.0],
        "temp_change_1h": [2.0, None],
    }
    assert answer.statuses["temp_change_1h"] == ["PRESENT", "NULL"]
