"""Loading a model never runs code the model file names: only exact, reviewed types load.

Each attack is a model file written into the store through the project's own artifact
API (so its checksum is fresh) with one field replaced by a payload, as the examination
of issue 16 did. The control in each test shows the payload is live: skops trusting what
the file names runs it.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import mloop
from mloop.core.errors import ConfigError, InvalidInput
from mloop.registry import flavors
from mloop.serving.runtime import ModelRuntime
from mloop.store import get_artifacts
from tests.registry.models_for_tests import ThresholdModel


def _data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"distance": rng.uniform(100, 3000, 200), "hour": rng.integers(5, 23, 200)})
    return X, pd.Series((X["hour"] > 15).astype(int), name="late")


def _leaf(value: str) -> dict[str, Any]:
    return {
        "__class__": "str",
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps(value),
        "is_json": True,
    }


def _args(*values: str) -> dict[str, Any]:
    return {
        "__class__": "tuple",
        "__module__": "builtins",
        "__loader__": "TupleNode",
        "content": [_leaf(v) for v in values],
    }


def _call(module: str, name: str, *args: str) -> dict[str, Any]:
    """A node that skops builds by calling ``module.name(*args)``."""
    return {
        "__class__": name,
        "__module__": module,
        "__loader__": "ConstructorFromReduceNode",
        "content": _args(*args),
    }


def _partial(module: str, name: str, *args: str) -> dict[str, Any]:
    """A ``functools.partial(module.name, *args)`` node."""
    no_keys = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode"}
    return {
        "__class__": "partial",
        "__module__": "functools",
        "__loader__": "PartialNode",
        "content": {
            "func": {"__class__": name, "__module__": module, "__loader__": "TypeNode"},
            "args": _args(*args),
            "kwds": {
                "__class__": "dict",
                "__module__": "builtins",
                "__loader__": "DictNode",
                "content": {},
                "key_types": {**no_keys, "content": []},
            },
            "namespace": {**_leaf(""), "content": "null"},
        },
    }


def _edit(data: bytes, edit: Any) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read("schema.json"))
        others = {n: source.read(n) for n in source.namelist() if n != "schema.json"}
    edit(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("schema.json", json.dumps(schema))
        for name, content in others.items():
            target.writestr(name, content)
    return out.getvalue()


def _log_and_replace(model: Any, edit: Any) -> tuple[bytes, str]:
    """Log ``model`` as version 1 of ``m``, then overwrite its file, edited, through the
    artifact API (a fresh checksum, as a writer to the store could do)."""
    with mloop.start_run():
        info = mloop.log_model(model, "model", registered_model_name="m")
    assert info.registered_model_version is not None
    key = f"{info.registered_model_version.source}/{flavors.MODEL_FILE}"
    bad = _edit(get_artifacts().get_bytes(key), edit)
    get_artifacts().put_bytes(key, bad)
    return bad, key


def _field(name: str, node: dict[str, Any]) -> Any:
    def edit(schema: dict[str, Any]) -> None:
        schema["content"]["content"][name] = node

    return edit


@pytest.mark.parametrize(
    ("module", "name", "code"),
    [
        ("builtins", "eval", "__import__('pathlib').Path('{marker}').write_text('ran')"),
        ("builtins", "exec", "import pathlib; pathlib.Path('{marker}').write_text('ran')"),
        ("os", "system", "touch '{marker}'"),
    ],
)
def test_a_model_file_calling_code_is_refused_and_the_code_never_runs(
    module: str, name: str, code: str, tmp_path: Path
) -> None:
    X, y = _data()
    marker = tmp_path / f"{name}-ran"
    payload = _call(module, name, code.format(marker=marker))
    bad, _ = _log_and_replace(LogisticRegression().fit(X, y), _field("C", payload))
    with pytest.raises(InvalidInput, match=rf"models:/m/1 holds types .*{module}\.{name}"):
        mloop.load_model("models:/m/1")
    with pytest.raises(InvalidInput, match="trusted_types"):
        ModelRuntime("models:/m/1").load()  # what `mloop serve` does at start-up
    assert not marker.exists()
    sio.loads(bad, trusted=sio.get_untrusted_types(data=bad))  # the control: it is live
    assert marker.exists()


def test_a_partial_of_a_system_call_inside_a_pipeline_is_refused(tmp_path: Path) -> None:
    X, y = _data()
    marker = tmp_path / "partial-ran"
    pipe = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(X, y)

    def edit(schema: dict[str, Any]) -> None:
        steps = schema["content"]["content"]["steps"]["content"]
        transformer = steps[0]["content"][1]["content"]["content"]
        transformer["func"] = _partial("os", "system", f"touch '{marker}'")

    bad, _ = _log_and_replace(pipe, edit)
    with pytest.raises(InvalidInput, match=r"functools\.partial.*os\.system|os\.system"):
        mloop.load_model("models:/m/1")
    assert not marker.exists()
    control = sio.loads(bad, trusted=sio.get_untrusted_types(data=bad))
    control[0].func()  # the control: what the loaded pipeline holds runs the command
    assert marker.exists()


def test_types_named_in_the_models_own_metadata_are_not_trusted() -> None:
    X, y = _data()
    _log_and_replace(LogisticRegression().fit(X, y), _field("C", _call("posix", "getpid")))
    meta_key = "/".join(mloop.registry.get_version("m", 1).source.split("/")) + "/MLmodel.json"
    meta = json.loads(get_artifacts().get_bytes(meta_key))
    meta["trusted_types"] = ["posix.getpid", "builtins.eval"]
    get_artifacts().put_bytes(meta_key, json.dumps(meta).encode())
    with pytest.raises(InvalidInput, match=r"posix\.getpid"):
        mloop.load_model("models:/m/1")


class _Holder:
    def __init__(self, hook: Any) -> None:
        self.hook = hook

    def predict(self, frame: pd.DataFrame) -> Any:
        return np.zeros(len(frame))


@pytest.mark.parametrize("hook", ["getpid", "eval", "system"])
def test_a_model_holding_a_system_function_is_refused_at_log_time(hook: str) -> None:
    import functools
    import os

    function = {"getpid": os.getpid, "eval": eval, "system": functools.partial(os.system, "x")}
    with pytest.raises(InvalidInput, match="holds types mloop does not trust") as caught:
        mloop.log_model(_Holder(function[hook]), "model")
    assert hook in str(caught.value) and "trusted_types" in str(caught.value)


def test_scikit_learn_lightgbm_and_xgboost_models_still_load() -> None:
    import lightgbm
    import xgboost
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = _data()
    X["carrier"] = np.where(X["distance"] > 1500, "UA", "AA")
    numeric = X[["distance", "hour"]]
    models = {
        "pipeline": make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), ["carrier"]),
                (StandardScaler(), ["distance", "hour"]),
            ),
            LogisticRegression(),
        ).fit(X, y),
        "forest": RandomForestClassifier(n_estimators=5, random_state=0).fit(numeric, y),
        "hgb": HistGradientBoostingClassifier(max_iter=5).fit(numeric, y),
        "knn": KNeighborsClassifier(algorithm="kd_tree").fit(numeric, y),
        "lgbm": lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(numeric, y),
        "lgbm-reg": lightgbm.LGBMRegressor(n_estimators=5, verbose=-1).fit(numeric, y),
        "xgb": xgboost.XGBClassifier(n_estimators=5).fit(numeric, y),
        "xgb-reg": xgboost.XGBRegressor(n_estimators=5).fit(numeric, y),
    }
    for name, model in models.items():
        rows = X if name == "pipeline" else numeric
        with mloop.start_run():
            mloop.log_model(model, "model", registered_model_name=name)
        loaded = mloop.load_model(f"models:/{name}/1")
        assert np.array_equal(loaded.predict(rows), model.predict(rows)), name


def test_an_admin_can_trust_a_projects_own_class_by_its_exact_name(
    monkeypatch: pytest.MonkeyPatch, mloop_home: Path
) -> None:
    X, _ = _data()
    model = ThresholdModel("hour", 15)
    name = "tests.registry.models_for_tests.ThresholdModel"
    with pytest.raises(InvalidInput, match=rf"{name}.*trusted_types = \[\"{name}\"\]"):
        mloop.log_model(model, "rule")
    (mloop_home / "mloop.toml").write_text(f'[models]\ntrusted_types = ["{name}"]\n')
    with mloop.start_run():
        mloop.log_model(model, "rule", registered_model_name="rule")
    assert list(mloop.load_model("models:/rule/1").predict(X)) == list((X["hour"] > 15) * 1)
    (mloop_home / "mloop.toml").write_text("")
    with pytest.raises(InvalidInput, match="ThresholdModel"):
        mloop.load_model("models:/rule/1")
    monkeypatch.setenv("MLOOP_MODELS_TRUSTED_TYPES", name)
    assert mloop.load_model("models:/rule/1").threshold == 15


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("tests.registry.*", "not an exact dotted name"),
        ("builtins.", "not an exact dotted name"),
        ("builtins.eval", "can run code"),
        ("os.system", "can run code"),
        ("posix.getpid", "can run code"),
        ("subprocess.Popen", "can run code"),
    ],
)
def test_prefixes_and_code_running_names_cannot_be_trusted_by_configuration(
    entry: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = _data()
    monkeypatch.setenv("MLOOP_MODELS_TRUSTED_TYPES", entry)
    with pytest.raises(ConfigError, match=message):
        mloop.log_model(LogisticRegression().fit(X, y), "model")
