"""Application graphs: pre-process, online enrichment, model, post-process, actions, routers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mloop
from mloop import serving
from mloop.core.errors import InvalidInput
from mloop.registry import set_alias
from mloop.store import get_store, lineage
from mloop.store.predictions import read_predictions
from tests.serving.conftest import Flights, records, train


@pytest.fixture
def two_versions(flights: Flights, mloop_home: Path) -> tuple[str, str]:
    """``delays`` v1 (champion) and v2 (challenger), trained differently."""
    set_alias("delays", "champion", train(flights, c=1.0))
    set_alias("delays", "challenger", train(flights, c=0.001))
    return "models:/delays@champion", "models:/delays@challenger"


def test_plain_functions_become_pre_and_post_processing_around_the_model(
    two_versions: tuple[str, str], flights: Flights
) -> None:
    def miles_to_km(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(distance=frame["distance_km"] / 1.609344).drop(columns="distance_km")

    def label(outputs: pd.DataFrame) -> pd.DataFrame:
        return outputs.assign(late=np.where(outputs["proba"] > 0.3, "late", "on time"))

    graph = serving.Graph("eta").add(miles_to_km).add(serving.Model(two_versions[0])).add(label)
    assert [type(s).__name__ for s in graph.steps] == ["Preprocess", "Model", "Postprocess"]
    rows = flights.test.head(5)
    request = rows.assign(distance_km=rows["distance"] * 1.609344).drop(columns="distance")
    with graph.test_client() as client:
        answer = client.predict({"records": records(request)})
    model = mloop.load_model("models:/delays/1")
    proba = model.predict_proba(rows)[:, 1]
    assert answer["proba"] == pytest.approx(proba.tolist())
    assert answer["late"] == np.where(proba > 0.3, "late", "on time").tolist()
    logged = read_predictions("delays")
    assert len(logged) == 5 and "input.distance_km" in logged.columns


def test_a_bad_request_in_a_batch_fails_alone(
    two_versions: tuple[str, str], flights: Flights
) -> None:
    graph = serving.Graph("g").add(lambda f: f).add(serving.Model(two_versions[0]))
    good = [{"records": records(flights.test.iloc[i : i + 1])} for i in range(6)]
    bad = {"records": [{"distance": 1.0, "carrier": "UA"}]}  # no hour: found by the model step
    with graph.test_client(log=False) as client:
        results = client.predict_many([*good[:3], bad, *good[3:]])
    assert [isinstance(r, dict) for r in results] == [True] * 3 + [False] + [True] * 3
    assert isinstance(results[3], InvalidInput) and "'hour'" in str(results[3])


def test_actions_receive_selected_rows_with_request_ids(
    two_versions: tuple[str, str], flights: Flights
) -> None:
    seen: list[pd.DataFrame] = []
    graph = (
        serving.Graph("alerts")
        .add(serving.Model(two_versions[0]))
        .add(serving.Action(lambda rows, event: seen.append(rows), when=lambda o: o["proba"] > 0.2))
    )
    body = {"records": records(flights.test.head(40)), "request_ids": [f"r{i}" for i in range(40)]}
    with graph.test_client(log=False) as client:
        answer = client.predict(body)
    serving.Action.wait()
    expected = [f"r{i}" for i, p in enumerate(answer["proba"]) if p > 0.2]
    assert expected and seen[0]["request_id"].tolist() == expected


def test_enrichment_joins_online_features_by_entity_key_and_logs_them(
    flights: Flights, mloop_home: Path
) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from mloop import features as fs

    rates = (
        flights.train.assign(late=flights.target)
        .groupby("carrier", as_index=False)["late"]
        .mean()
        .rename(columns={"late": "late_rate"})
        .assign(ts=pd.Timestamp("2026-01-01", tz="UTC"))
    )
    carrier = fs.Entity("carrier", join_keys=["carrier"])
    view = fs.FeatureView("carrier_stats", entity=carrier, source=rates, timestamp="ts")
    store = fs.FeatureStore()
    store.apply([carrier, view])
    store.materialize(None, datetime(2026, 1, 2, tzinfo=UTC))
    train_frame = flights.train.merge(rates[["carrier", "late_rate"]], on="carrier")
    model = make_pipeline(
        ColumnTransformer(
            [
                ("c", OneHotEncoder(handle_unknown="ignore"), ["carrier"]),
                ("n", StandardScaler(), ["distance", "hour", "late_rate"]),
            ]
        ),
        LogisticRegression(max_iter=300),
    ).fit(train_frame[["distance", "hour", "carrier", "late_rate"]], flights.target)
    with mloop.start_run():
        mloop.log_model(
            model,
            "m",
            registered_model_name="enriched",
            input_example=train_frame[["distance", "hour", "carrier", "late_rate"]].head(2),
        )
    graph = serving.Graph("enriched").add(serving.Enrich(["carrier_stats:late_rate"], store=store))
    graph.add(serving.Model("models:/enriched/1"))
    rows = flights.test.head(8)
    with graph.test_client() as client:
        answer = client.predict({"records": records(rows)})
    joined = rows.merge(rates[["carrier", "late_rate"]], on="carrier", how="left")
    assert answer["proba"] == pytest.approx(model.predict_proba(joined)[:, 1].tolist())
    logged = read_predictions("enriched")
    assert logged["feature.late_rate"].tolist() == pytest.approx(joined["late_rate"].tolist())
    store.close()


def test_canary_splits_rows_by_weight_and_logs_each_version(
    two_versions: tuple[str, str], flights: Flights
) -> None:
    graph = serving.Graph("delays").add(
        serving.Canary({"models:/delays/1": 0.7, "models:/delays/2": 0.3})
    )
    with graph.test_client() as client:
        answer = client.predict({"records": records(flights.test.head(600))})
    versions = pd.Series(answer["model_version"])
    share = (versions == "2").mean()
    assert 0.2 < share < 0.4
    v2 = mloop.load_model("models:/delays/2").predict_proba(flights.test.head(600))[:, 1]
    picked = np.flatnonzero(versions == "2")
    assert np.asarray(answer["proba"])[picked] == pytest.approx(v2[picked])
    counts = read_predictions("delays").groupby("model_version").size().to_dict()
    assert counts == {"1": int((versions == "1").sum()), "2": int((versions == "2").sum())}


def test_ab_test_is_sticky_by_key(two_versions: tuple[str, str], flights: Flights) -> None:
    graph = serving.Graph("delays").add(
        serving.ABTest({"a": two_versions[0], "b": two_versions[1]}, key="user")
    )
    users = [f"user-{i % 50}" for i in range(300)]
    rows = flights.test.head(300).assign(user=users)
    with graph.test_client(log=False) as client:
        first = client.predict({"records": records(rows)})["model_version"]
        again = client.predict({"records": records(rows.iloc[::-1])})["model_version"][::-1]
    by_user = pd.DataFrame({"user": users, "v": first}).groupby("user")["v"].nunique()
    assert by_user.max() == 1  # one variant per user
    assert first == again
    assert set(first) == {"1", "2"}


def test_shadow_answers_with_the_champion_and_logs_both(
    two_versions: tuple[str, str], flights: Flights
) -> None:
    shadow = serving.Shadow(*two_versions)
    graph = serving.Graph("delays").add(shadow)
    with graph.test_client() as client:
        answer = client.predict({"records": records(flights.test.head(10))})
        shadow.wait()
    assert answer["model_version"] == "1"
    champion = mloop.load_model("models:/delays/1").predict_proba(flights.test.head(10))[:, 1]
    assert answer["proba"] == pytest.approx(champion.tolist())
    logged = read_predictions("delays")
    assert logged.groupby("model_version").size().to_dict() == {"1": 10, "2": 10}
    assert set(logged["request_id"]) == set(answer["request_ids"])
    downstream = lineage.downstream(get_store(), lineage.Node("model_version", "delays/2"))
    assert {(e.relation, str(e.target)) for e in downstream} >= {
        ("deployed_to", "deployment:delays"),
        ("logs_to", "prediction_log:delays"),
    }


def test_ensemble_mean_averages_probabilities(
    two_versions: tuple[str, str], flights: Flights
) -> None:
    graph = serving.Graph("delays").add(serving.Ensemble(list(two_versions), method="mean"))
    rows = flights.test.head(20)
    with graph.test_client(log=False) as client:
        answer = client.predict({"records": records(rows)})
    mean = np.mean(
        [mloop.load_model(f"models:/delays/{v}").predict_proba(rows)[:, 1] for v in (1, 2)], axis=0
    )
    assert answer["proba"] == pytest.approx(mean.tolist())
    assert answer["predictions"] == (mean >= 0.5).astype(int).tolist()
    assert answer["model_version"] == "delays/1+delays/2"


def test_graph_definitions_refuse_bad_steps_and_weights() -> None:
    with pytest.raises(InvalidInput, match="not a step"):
        serving.Graph("g").add(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="graph name"):
        serving.Graph("a/b")
    with pytest.raises(InvalidInput, match="weights"):
        serving.Canary({"models:/m/1": 0.0, "models:/m/2": 0.0})
    with pytest.raises(InvalidInput, match="no model step"):
        serving.Graph("g").add(lambda f: f).load()
    with pytest.raises(InvalidInput, match="model URI"):
        serving.Graph.from_model("delays")


def test_serve_target_loads_graphs_from_a_project_file(
    two_versions: tuple[str, str], mloop_home: Path
) -> None:
    (mloop_home / "app.py").write_text(
        "from mloop import serving\n"
        "graph = serving.Graph('eta').add(serving.Model('models:/delays@champion'))\n"
    )
    [graph] = serving.load_target("app.py:graph")
    assert graph.name == "eta" and graph.model_names() == ["delays"]
    assert [g.name for g in serving.load_target("app.py")] == ["eta"]
    with pytest.raises(mloop.errors.NotFound, match="no attribute 'grph'"):
        serving.load_target("app.py:grph")
