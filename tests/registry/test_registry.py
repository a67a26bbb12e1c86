"""The model registry: versions, aliases, loading by URI, signatures, flavors, audit."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.core.errors import GateFailed, IntegrityError, InvalidInput, NotFound
from mloop.registry import flavors
from mloop.store import audit, get_artifacts, get_store, lineage
from tests.registry.models_for_tests import ThresholdModel


def _data(seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"distance": rng.uniform(100, 3000, 300), "hour": rng.integers(5, 23, 300)})
    y = pd.Series((X["hour"] + rng.normal(0, 3, 300) > 15).astype(int), name="late")
    return X, y


def test_logged_models_become_numbered_versions_loadable_by_every_uri(db_url: str) -> None:
    X, y = _data()
    infos = []
    for c in (0.1, 1.0):
        with mloop.start_run():
            model = LogisticRegression(C=c).fit(X, y)
            infos.append(
                mloop.log_model(model, "model", registered_model_name="late", input_example=X[:5])
            )
    assert [i.registered_model_version.version for i in infos] == [1, 2]  # type: ignore[union-attr]
    mloop.registry.set_alias("late", "champion", 1)
    expected = LogisticRegression(C=0.1).fit(X, y).predict_proba(X)
    for uri in ("models:/late@champion", "models:/late/1", f"runs:/{infos[0].run_id}/model"):
        loaded = mloop.load_model(uri)
        assert np.allclose(loaded.predict_proba(X), expected)
        assert loaded.flavor == "sklearn"
    assert mloop.load_model("models:/late/latest").version.version == 2  # type: ignore[union-attr]
    latest = mloop.registry.get_model("late")
    assert latest.latest_version == 2 and latest.aliases == {"champion": 1}
    edges = lineage.upstream(get_store(), lineage.Node("model_version", "late/2"))
    assert [(e.source.kind, e.source.id) for e in edges] == [("run", infos[1].run_id)]


def test_the_signature_is_inferred_from_the_input_example() -> None:
    X, y = _data()
    X["carrier"] = "UA"
    with mloop.start_run():
        from sklearn.compose import make_column_transformer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        pipe = make_pipeline(
            make_column_transformer((OneHotEncoder(), ["carrier"]), remainder="passthrough"),
            LogisticRegression(),
        ).fit(X, y)
        info = mloop.log_model(pipe, "model", registered_model_name="sig", input_example=X[:3])
    signature = mloop.load_model("models:/sig/1").signature
    assert signature is not None
    assert [(c.name, c.type) for c in signature.inputs] == [
        ("distance", "double"),
        ("hour", "long"),
        ("carrier", "string"),
    ]
    assert [(c.name, c.type) for c in signature.outputs] == [("prediction", "long")]
    assert info.signature == signature.to_dict()


def test_alias_moves_and_deletions_are_audited_with_from_and_to(db_url: str) -> None:
    X, y = _data()
    for _ in range(2):
        with mloop.start_run():
            mloop.log_model(LogisticRegression().fit(X, y), "model", registered_model_name="m")
    mloop.registry.set_alias("m", "champion", 1, reason="first")
    mloop.registry.set_alias("m", "champion", 2, reason="better auc")
    mloop.registry.delete_alias("m", "champion", reason="rollback plan")
    entries = audit.entries(get_store(), object_id="m")
    assert [(e.action, e.from_value, e.to_value, e.reason) for e in entries[:3]] == [
        ("alias.delete", "champion=2", None, "rollback plan"),
        ("alias.set", "champion=1", "champion=2", "better auc"),
        ("alias.set", None, "champion=1", "first"),
    ]
    assert entries[0].actor
    assert [e.action for e in entries[3:]] == ["version.create", "version.create"]


def test_version_number_follows_the_alias_as_it_moves(db_url: str) -> None:
    """What a server polls: the number an alias points to now, with the same errors."""
    X, y = _data()
    for _ in range(2):
        with mloop.start_run():
            mloop.log_model(LogisticRegression().fit(X, y), "model", registered_model_name="m")
    mloop.registry.set_alias("m", "champion", 1)
    assert mloop.registry.version_number("m", "champion") == 1
    mloop.registry.set_alias("m", "champion", 2)
    assert mloop.registry.version_number("m", "champion") == 2
    assert mloop.registry.version_number("m", "latest") == 2
    assert mloop.registry.version_number("m", 1) == 1
    mloop.registry.delete_alias("m", "champion")
    with pytest.raises(NotFound, match="no alias 'champion'"):
        mloop.registry.version_number("m", "champion")
    with pytest.raises(NotFound, match="model 'n' does not exist"):
        mloop.registry.version_number("n", "champion")


def test_unknown_models_versions_and_aliases_are_clear_errors() -> None:
    X, y = _data()
    with mloop.start_run():
        mloop.log_model(LogisticRegression().fit(X, y), "model", registered_model_name="delays")
    mloop.registry.set_alias("delays", "champion", 1)
    with pytest.raises(NotFound, match="Did you mean 'delays'"):
        mloop.load_model("models:/delay@champion")
    with pytest.raises(NotFound, match="Did you mean 'champion'"):
        mloop.load_model("models:/delays@champoin")
    with pytest.raises(NotFound, match="no version 7"):
        mloop.registry.set_alias("delays", "x", 7)
    with pytest.raises(NotFound, match="no version 99; its latest is 1"):
        mloop.registry.update_version("delays", 99, description="x")
    with pytest.raises(NotFound, match="no version 99"):
        mloop.registry.set_version_tag("delays", 99, "k", "v")
    with pytest.raises(InvalidInput, match="models:/<name>@<alias>"):
        mloop.load_model("delays")
    with pytest.raises(InvalidInput, match="not a number"):
        mloop.registry.set_alias("delays", "3", 1)


def test_a_tampered_model_file_is_refused() -> None:
    X, y = _data()
    with mloop.start_run():
        info = mloop.log_model(LogisticRegression().fit(X, y), "model", registered_model_name="t")
    version = info.registered_model_version
    assert version is not None
    path = get_artifacts().local_path(f"{version.source}/{flavors.MODEL_FILE}")
    assert path is not None
    path.write_bytes(path.read_bytes()[:-10] + b"0" * 10)
    with pytest.raises(IntegrityError, match="corrupt"):
        mloop.load_model("models:/t/1")


def test_any_object_with_predict_is_a_python_function_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, _ = _data()
    monkeypatch.setenv(
        "MLOOP_MODELS_TRUSTED_TYPES", "tests.registry.models_for_tests.ThresholdModel"
    )
    with mloop.start_run():
        info = mloop.log_model(
            ThresholdModel("hour", 15), "rule", registered_model_name="rule", input_example=X[:2]
        )
    assert info.flavor == "python_function"
    loaded = mloop.load_model("models:/rule/1")
    assert list(loaded.predict(X)) == list((X["hour"] > 15).astype(int))
    with pytest.raises(InvalidInput, match="predict"):
        mloop.log_model(object(), "nothing")


def _register(index: int) -> int:
    from sklearn.dummy import DummyClassifier

    import mloop as m

    with m.start_run():
        info = m.log_model(
            DummyClassifier().fit([[0], [1]], [0, 1]), "model", registered_model_name="race"
        )
    assert info.registered_model_version is not None
    return info.registered_model_version.version


def test_versions_registered_concurrently_get_distinct_numbers(db_url: str) -> None:
    with mp.get_context("spawn").Pool(3) as pool:
        numbers = pool.map(_register, range(6), chunksize=1)
    assert sorted(numbers) == list(range(1, 7))


class _MinAccuracy:
    """A minimal gate: the candidate's accuracy on the data must reach ``floor``."""

    def __init__(self, floor: float) -> None:
        self.floor = floor

    def check(self, candidate, incumbent, *, data=None, target=None):  # type: ignore[no-untyped-def]
        accuracy = float((candidate.predict(data.drop(columns=[target])) == data[target]).mean())

        class Result:
            passed = accuracy >= self.floor
            failures = [] if passed else [f"accuracy {accuracy:.3f} < {self.floor}"]

            def to_dict(self) -> dict[str, object]:
                return {"accuracy": accuracy, "passed": self.passed}

        return Result()


def test_promotion_is_refused_by_a_failing_gate_unless_forced_with_a_reason() -> None:
    X, y = _data()
    with mloop.start_run():
        mloop.log_model(LogisticRegression().fit(X, y), "model", registered_model_name="p")
    data = X.assign(late=y)
    with pytest.raises(GateFailed, match=r"accuracy .* < 0.99"):
        mloop.registry.promote("p", 1, gate=_MinAccuracy(0.99), data=data, target="late")
    with pytest.raises(NotFound):
        mloop.registry.get_version("p", "champion")
    refused = audit.entries(get_store(), object_id="p", action="promote.refused")
    assert [(e.to_value, e.details["gate"]["passed"]) for e in refused] == [("champion=1", False)]  # type: ignore[index]
    with pytest.raises(InvalidInput, match="reason"):
        mloop.registry.promote(
            "p", 1, gate=_MinAccuracy(0.99), data=data, target="late", force=True
        )
    forced = mloop.registry.promote(
        "p", 1, gate=_MinAccuracy(0.99), data=data, target="late", force=True, reason="hotfix"
    )
    assert forced.aliases == ("champion",)
    entry = audit.entries(get_store(), object_id="p", limit=1)[0]
    assert (entry.action, entry.reason) == ("promote.forced", "hotfix")
    assert entry.details is not None and entry.details["gate"]["passed"] is False
    mloop.registry.promote("p", 1, alias="safe", gate=_MinAccuracy(0.5), data=data, target="late")
    assert mloop.registry.get_version("p", "safe").version == 1


def test_client_keeps_mlflows_registry_method_names() -> None:
    X, y = _data()
    with mloop.start_run() as run:
        mloop.log_model(LogisticRegression().fit(X, y), "model", registered_model_name="c")
    client = mloop.Client()
    client.set_registered_model_alias("c", "challenger", 1)
    assert client.get_model_version_by_alias("c", "challenger").version == 1
    assert client.get_registered_model("c").aliases == {"challenger": 1}
    assert [
        v.version for v in client.search_model_versions(f"name='c' and run_id='{run.info.run_id}'")
    ] == [1]
    client.set_model_version_tag("c", 1, "validated", "yes")
    assert client.get_model_version("c", 1).tags == {"validated": "yes"}
    client.delete_registered_model_alias("c", "challenger")
    assert client.get_registered_model("c").aliases == {}
    registered = mloop.register_model(f"runs:/{run.info.run_id}/model", "c-copy")
    assert registered.version == 1 and registered.run_id == run.info.run_id


def test_autolog_logs_params_training_metrics_and_the_model_once_per_fit() -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data()
    mloop.autolog()
    try:
        with mloop.start_run() as run:
            make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, y)
        stored = mloop.get_run(run.info.run_id)
        assert stored.data.tags["estimator_name"] == "Pipeline"
        assert "steps" in stored.data.params
        assert 0.5 < stored.data.metrics["training_accuracy_score"] <= 1.0
        assert "training_roc_auc" in stored.data.metrics
        assert mloop.load_model(f"runs:/{run.info.run_id}/model").predict(X[:3]).shape == (3,)
        LogisticRegression().fit(X, y)  # no active run: one is started and ended
        last = mloop.last_active_run()
        assert last is not None and last.info.run_id != run.info.run_id
        assert last.info.status == "FINISHED" and last.data.params["C"] == "1.0"
    finally:
        mloop.autolog(disable=True)
