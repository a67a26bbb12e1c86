"""Explanations: global permutation importance, SHAP when installed, and one row at a time.

>>> imp = explain(model, test_df, target="late")            # scikit-learn permutation importance
>>> imp.importances.head(3)                                  # feature, importance, std
>>> row = explain_row(model, test_df.drop(columns="late").iloc[0], background=train_df)
>>> row.contributions                                        # sums to prediction - base_value
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mloop.core.errors import ConfigError, InvalidInput, did_you_mean
from mloop.evaluation import _inputs
from mloop.evaluation import metrics as m
from mloop.evaluation._plain import plain
from mloop.evaluation.metrics import greater_is_better
from mloop.evaluation.plots import importance_figure

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Explanation", "RowExplanation", "explain", "explain_row"]


@dataclass
class Explanation:
    """Global importance per feature: how much ``scoring`` drops when it is scrambled."""

    importances: pd.DataFrame  # feature, importance, std (largest first)
    method: str
    scoring: str
    baseline_score: float
    n_rows: int

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "importances": self.importances.to_dict(orient="records"),
                "method": self.method,
                "scoring": self.scoring,
                "baseline_score": self.baseline_score,
                "n_rows": self.n_rows,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        import pandas as pd

        score = data.get("baseline_score")
        return cls(
            pd.DataFrame(data.get("importances") or []),
            data.get("method", "permutation"),
            data.get("scoring", ""),
            float("nan") if score is None else float(score),
            int(data.get("n_rows", 0)),
        )

    def plot(self, top: int = 20) -> Any:
        """A horizontal bar chart of the ``top`` features (a matplotlib Figure)."""
        return importance_figure(self, top)


class _Scored:
    """Presents any model to scikit-learn's permutation_importance (which wants ``fit``)."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor

    def fit(self, X: Any, y: Any = None) -> _Scored:  # never called: the model is fitted
        return self

    def predict(self, X: Any) -> Any:
        return self.predictor.predict(X)


def explain(
    model: Any,
    data: Any,
    target: str | None = None,
    *,
    task: str | None = None,
    scoring: str | None = None,
    method: str = "permutation",
    n_repeats: int = 5,
    max_rows: int = 5000,
    pos_label: Any = None,
    random_state: int = 0,
) -> Explanation:
    """Global feature importance of ``model`` on ``data`` (the target column is needed).

    ``method="permutation"`` (default) uses scikit-learn's permutation importance: the drop
    of ``scoring`` (default ROC AUC for a binary classifier with probabilities, accuracy
    for other classifiers, RMSE for regression) when one feature's values are shuffled.
    ``method="shap"`` gives the mean absolute SHAP value (needs the ``shap`` extra).

    Example:
        >>> explain(clf, test_df, target="late").importances.head()

    Args:
        n_repeats: shuffles per feature (permutation).
        max_rows: rows used at most (a sample of larger data, drawn with ``random_state``).

    Raises:
        InvalidInput: an unknown ``method``, ``n_repeats`` below 1, or a missing target.
        NotFound: a model URI, dataset or file that does not exist.
        ConfigError: ``method="shap"`` without the shap package (``mloop[shap]``).
    """
    if method not in ("permutation", "shap"):
        raise InvalidInput(
            f"explanation method {method!r} is unknown; use 'permutation' or 'shap'."
        )
    if not isinstance(n_repeats, int) or n_repeats < 1:
        raise InvalidInput(f"n_repeats {n_repeats!r} is not valid; give a positive integer.")
    resolved = _inputs.resolve_model(model)
    frame, _ = _inputs.load_frame(data)
    target = _inputs.check_target(frame, target)
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=random_state)
    X = _inputs.features(frame, target, resolved)
    y = frame[target]
    task = _inputs.infer_task(task, resolved, y)
    if method == "shap":
        return _shap(resolved, X, task, random_state)
    score, name = _scorer(resolved, X, y, task, scoring, pos_label)
    from sklearn.inspection import permutation_importance

    found = permutation_importance(
        _Scored(resolved.predictor),
        X,
        y,
        scoring=score,
        n_repeats=n_repeats,
        random_state=random_state,
        n_jobs=1,
    )
    import pandas as pd

    table = pd.DataFrame(
        {
            "feature": [str(c) for c in X.columns],
            "importance": found.importances_mean,
            "std": found.importances_std,
        }
    ).sort_values("importance", ascending=False, kind="stable")
    return Explanation(
        table.reset_index(drop=True), "permutation", name, score(None, X, y), len(frame)
    )


def _scorer(
    model: Any, X: pd.DataFrame, y: pd.Series, task: str, scoring: str | None, pos_label: Any
) -> tuple[Any, str]:
    """A scorer ``(estimator, X, y) -> float`` where higher is better, and its metric name."""

    def metrics_of(rows: pd.DataFrame, truth: pd.Series) -> tuple[dict[str, float], dict[str, str]]:
        return _metrics(model, rows, truth, task, pos_label)

    metrics, undefined = metrics_of(X, y)
    if scoring is None:
        if task == "regression":
            scoring = "rmse"
        elif "roc_auc" in metrics and "roc_auc" not in undefined:
            scoring = "roc_auc"
        else:
            scoring = "accuracy"
    if scoring not in metrics:
        raise InvalidInput(
            f"scoring {scoring!r} is not a {task} metric."
            + did_you_mean(scoring, list(metrics))
            + f" Use one of {', '.join(metrics)}."
        )
    if scoring in undefined:
        raise InvalidInput(
            f"scoring {scoring!r} is undefined here ({undefined[scoring]}); choose another metric."
        )
    sign = 1.0 if greater_is_better(scoring) else -1.0

    def score(estimator: Any, rows: pd.DataFrame, truth: pd.Series) -> float:
        found, _ = metrics_of(rows, truth)
        return sign * found[scoring]

    return score, scoring


def _metrics(
    model: Any, X: pd.DataFrame, y: pd.Series, task: str, pos_label: Any
) -> tuple[dict[str, float], dict[str, str]]:
    """The overall metrics of ``model`` on ``X`` (no slices, tables or logging: a scorer)."""
    import math

    import numpy as np

    codes = np.zeros(len(X), dtype=np.int64)
    if task == "regression":
        predicted = _inputs.predict_regression(model, X)
        found = m.regression_metrics(codes, 1, y.to_numpy(dtype=float), predicted)
        names: tuple[str, ...] = m.REGRESSION
    else:
        preds, positive = _inputs.predict_classification(model, X, y, pos_label, None)
        if len(preds.classes) == 2:
            found = m.binary_metrics(
                codes,
                1,
                y.to_numpy() == positive,
                preds.labels == positive,
                preds.scores,
                preds.score_is_probability,
                preds.missing_score_reason,
            )
            names = m.BINARY
        else:
            found = m.multiclass_metrics(
                codes, 1, y.to_numpy(), preds.labels, preds.proba, preds.classes
            )
            names = m.MULTICLASS
    values = {n: float(found.values[n][0]) for n in names}
    undefined = {n: found.reason(n, 0) or "undefined" for n in names if math.isnan(values[n])}
    return values, undefined


def _shap(model: Any, X: pd.DataFrame, task: str, random_state: int) -> Explanation:
    try:
        import shap
    except ImportError:
        raise ConfigError(
            "method='shap' needs the shap package; install it with pip install 'mloop[shap]', "
            "or use method='permutation'."
        ) from None
    import numpy as np
    import pandas as pd

    predict = _output(model.predictor, task)
    background = X.sample(n=min(100, len(X)), random_state=random_state)
    explainer = shap.Explainer(predict, background, seed=random_state)
    values = explainer(X.head(min(len(X), 500))).values
    table = pd.DataFrame(
        {
            "feature": [str(c) for c in X.columns],
            "importance": np.abs(values).mean(axis=0),
            "std": np.abs(values).std(axis=0),
        }
    ).sort_values("importance", ascending=False, kind="stable")
    return Explanation(
        table.reset_index(drop=True), "shap", "mean |SHAP value|", float("nan"), len(X)
    )


def _output(predictor: Any, task: str) -> Any:
    """The function explained: positive-class probability, else the prediction."""
    import numpy as np

    if task == "classification" and callable(getattr(predictor, "predict_proba", None)):
        classes = list(getattr(predictor, "classes_", [0, 1]))
        column = len(classes) - 1

        def proba(rows: Any) -> Any:
            return np.asarray(predictor.predict_proba(rows))[:, column]

        return proba

    def predict(rows: Any) -> Any:
        return np.asarray(predictor.predict(rows), dtype=float)

    return predict


@dataclass
class RowExplanation:
    """Why one row got its prediction: ``prediction = base_value + sum(contributions)``."""

    prediction: float
    base_value: float
    contributions: pd.Series  # per feature, largest magnitude first
    values: pd.Series  # the row's feature values
    output: str  # what is explained: "probability of 1" or "prediction"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "feature": self.contributions.index,
                "value": [self.values[f] for f in self.contributions.index],
                "contribution": self.contributions.to_numpy(),
            }
        )


def explain_row(
    model: Any,
    row: Any,
    background: Any,
    *,
    task: str | None = None,
    target: str | None = None,
    n_permutations: int = 64,
    max_background: int = 200,
    random_state: int = 0,
) -> RowExplanation:
    """Per-feature contributions to one row's prediction (sampled Shapley values).

    Each sample takes a random order of the features and a random ``background`` row, then
    switches features from the background value to the row's value in that order; a
    feature's contribution is the average change of the model output when it switches.
    Contributions add up exactly to the prediction minus ``base_value`` (the mean output on
    the background rows used). Classifiers are explained on the positive-class probability.

    Example:
        >>> explain_row(model, X_test.iloc[0], background=X_train).to_frame()
    """
    import numpy as np
    import pandas as pd

    resolved = _inputs.resolve_model(model)
    frame, _ = _inputs.load_frame(background, "background")
    if target is not None and target in frame.columns:
        frame = frame.drop(columns=[target])
    if isinstance(row, pd.DataFrame):
        if len(row) != 1:
            raise InvalidInput(f"row has {len(row)} rows; explain one row (e.g. df.iloc[[0]]).")
        row = row.iloc[0]
    if not isinstance(row, pd.Series | dict):
        raise InvalidInput(
            f"row is a {type(row).__name__}; pass a pandas Series, a one-row DataFrame or a dict."
        )
    row = pd.Series(row)
    columns = resolved.input_names or [c for c in frame.columns if c != target]
    missing = [c for c in columns if c not in row.index or c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"row and background need the model's input columns; missing: {', '.join(map(str, missing))}."
        )
    if len(frame) == 0:
        raise InvalidInput("background has no rows; pass training rows to compare against.")
    if not isinstance(n_permutations, int) or n_permutations < 1:
        raise InvalidInput(
            f"n_permutations {n_permutations!r} is not valid; give a positive integer."
        )
    frame = frame[columns]
    rng = np.random.default_rng(random_state)
    if len(frame) > max_background:
        frame = frame.sample(n=max_background, random_state=random_state)
    samples = n_permutations
    picks = frame.iloc[rng.integers(0, len(frame), size=samples)].reset_index(drop=True)
    p = len(columns)
    orders = np.vstack([rng.permutation(p) for _ in range(samples)])
    # hybrid j of sample s: features orders[s, :j] take the row's values, the rest the background's
    switched = np.zeros((samples, p + 1, p), dtype=bool)
    for j in range(1, p + 1):
        switched[np.arange(samples), j:, orders[:, j - 1]] = True
    hybrids = picks.iloc[np.repeat(np.arange(samples), p + 1)].reset_index(drop=True)
    flat = switched.reshape(samples * (p + 1), p)
    for i, column in enumerate(columns):
        mask = flat[:, i]
        if mask.any():
            hybrids[column] = hybrids[column].where(~mask, row[column])
    label = "prediction"
    output_task = task or _inputs.infer_task(None, resolved, pd.Series([0.5, 1.5]))
    if output_task == "classification" and callable(
        getattr(resolved.predictor, "predict_proba", None)
    ):
        classes = list(getattr(resolved.predictor, "classes_", [0, 1]))
        label = f"probability of {classes[-1]}"
    outputs = _output(resolved.predictor, output_task)(hybrids).reshape(samples, p + 1)
    steps = np.diff(outputs, axis=1)  # change when feature orders[s, j] switches
    totals = np.zeros(p)
    np.add.at(totals, orders.reshape(-1), steps.reshape(-1))
    contributions = pd.Series(totals / samples, index=[str(c) for c in columns])
    contributions = contributions.reindex(
        contributions.abs().sort_values(ascending=False, kind="stable").index
    )
    base = float(outputs[:, 0].mean())
    prediction = float(outputs[:, -1].mean())
    return RowExplanation(prediction, base, contributions, row[columns], label)
