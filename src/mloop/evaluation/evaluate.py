"""``mloop.evaluate``: metrics, slices, KPIs and a baseline comparison in one call.

result = mloop.evaluate("models:/delays/2", "flights@3", target="late",
                        slices=["origin", "carrier", "month"],
                        kpis={"missed_delay_cost": KPI(cost, greater_is_better=False)},
                        baseline="models:/delays@champion")
result.metrics["roc_auc"], result.slices.head(), result.comparison
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, did_you_mean
from mloop.core.ids import new_id
from mloop.evaluation import _inputs, _tables
from mloop.evaluation import metrics as m
from mloop.evaluation._logging import log_result
from mloop.evaluation.explain import explain as explain_model
from mloop.evaluation.fairness import fairness_of
from mloop.evaluation.kpi import KPI, as_kpis
from mloop.evaluation.metrics import BINARY, MULTICLASS, REGRESSION, greater_is_better
from mloop.evaluation.result import EvaluationResult
from mloop.evaluation.slices import as_slice, codes

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def evaluate(
    model: Any,
    data: Any,
    target: str | None = None,
    task: str | None = None,
    slices: Sequence[Any] | None = None,
    kpis: Mapping[str, Any] | None = None,
    baseline: Any = None,
    threshold: float | None = None,
    pos_label: Any = None,
    metrics: Sequence[str] | None = None,
    sensitive: Sequence[Any] | str | None = None,
    explain: bool = False,
    primary_metric: str | None = None,
    log: bool = True,
    plots: bool = True,
    name: str = "evaluation",
) -> EvaluationResult:
    """Evaluate ``model`` on ``data`` and log the result to the active run (if any).

    ``model`` is a fitted estimator, a loaded model or a ``models:/``/``runs:/`` URI;
    ``data`` a DataFrame, a dataset reference (``flights@3``) or a Parquet/CSV path.
    Predicted labels are the model's own ``predict`` (as scikit-learn's, ties included);
    with a ``threshold`` a row is positive when its positive-class probability is at
    least the threshold. ``slices`` break metrics down (worst first), ``kpis`` are business
    functions ``fn(y_true, y_pred, data)``, ``baseline`` is evaluated on the same rows and
    compared, ``sensitive`` columns get a fairness table, ``explain`` adds permutation
    importance. ``metrics`` lists metrics that must be defined (asking for ``roc_auc``
    of a model without scores is an error); otherwise undefined metrics are NaN with a
    reason in ``result.undefined``.

    Example:
        >>> result = mloop.evaluate(clf, test_df, target="late", slices=["origin"])
        >>> result.metrics["f1"], result.slices.iloc[0]["value"]

    Args:
        task: ``"classification"`` or ``"regression"`` (inferred from the target when omitted).
        pos_label: the positive class of a binary target (inferred when omitted).
        primary_metric: the metric reports and comparisons lead with.
        log: log the result to the active run (when there is one).
        plots: draw the figures (ROC, PR, calibration...) of the report.
        name: the name of the evaluation, in the run and in reports.

    Raises:
        InvalidInput: the data, target, threshold, slices, KPIs or sensitive columns are
            not usable (a missing column, a target with missing values, no rows...); a
            metric in ``metrics`` cannot be defined for this model; the model fails on
            rows with missing values.
        NotFound: a model URI, dataset reference or file that does not exist.
    """
    resolved = _inputs.resolve_model(model)
    frame, source = _inputs.load_frame(data)
    target = _inputs.check_target(frame, target)
    specs = _slices(frame, slices)
    kpi_fns = as_kpis(kpis)
    sensitive_specs = _sensitive(frame, sensitive)
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 < threshold < 1
    ):
        raise InvalidInput(f"threshold {threshold!r} is not valid; give a number between 0 and 1.")
    X = _inputs.features(frame, target, resolved)
    y = frame[target]
    task = _inputs.infer_task(task, resolved, y)
    result = EvaluationResult(
        id=new_id(),
        name=name,
        task=task,
        model=resolved.label,
        model_version=resolved.version_key,
        dataset=source,
        num_rows=len(frame),
        target=target,
        created_at=now_ms(),
    )
    if sensitive_specs and (task == "regression" or y.nunique() > 2):
        raise InvalidInput(
            "sensitive= measures group fairness of a binary classifier; this is "
            f"{task if task == 'regression' else 'multiclass classification'}. Drop sensitive=."
        )
    if task == "regression":
        if y.dtype.kind not in "iufb":
            raise InvalidInput(
                f"task='regression' needs a numeric target; column {target!r} is {y.dtype}. "
                "Use task='classification' for labels."
            )
        predicted = _inputs.predict_regression(resolved, X)
        _fill_regression(result, frame, y.to_numpy(dtype=float), predicted, specs, kpi_fns)
    else:
        preds, positive = _inputs.predict_classification(resolved, X, y, pos_label, threshold)
        result.threshold = threshold if preds.score_is_probability else None
        result.pos_label = positive
        result.classes = list(preds.classes)
        _fill_classification(result, frame, y, preds, positive, specs, kpi_fns)
        for spec in sensitive_specs:
            key = " × ".join(spec)
            result.fairness[key] = fairness_of(frame, y, preds.labels, positive, spec)
    _require(result, metrics)
    _sort_slices(result, primary_metric, kpi_fns)
    if explain:
        result.importance = explain_model(
            resolved.predictor, frame, target=target, task=task, pos_label=pos_label
        )
    if baseline is not None:
        base = evaluate(
            baseline,
            frame,
            target=target,
            task=task,
            kpis=kpi_fns,
            threshold=threshold,
            pos_label=pos_label,
            log=False,
            plots=False,
            name=f"{name}.baseline",
        )
        base.dataset = source
        result.set_baseline(base)
    if log:
        log_result(result, data=data if source is None else None, plots=plots)
    return result


def _slices(frame: pd.DataFrame, slices: Sequence[Any] | None) -> list[Any]:
    if slices is None:
        return []
    if isinstance(slices, str | dict):
        slices = [slices]
    specs = [as_slice(s) for s in slices]
    for spec in specs:
        _inputs.check_columns(frame, list(spec.columns), "slice")
    return specs


def _sensitive(frame: pd.DataFrame, sensitive: Any) -> list[tuple[str, ...]]:
    if sensitive is None:
        return []
    items = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    specs = [(item,) if isinstance(item, str) else tuple(item) for item in items]
    for spec in specs:
        _inputs.check_columns(frame, list(spec), "sensitive")
    return specs


def _groups(
    frame: pd.DataFrame, specs: list[Any]
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Row positions and group numbers of "all rows" followed by every slice's groups."""
    import numpy as np

    n = len(frame)
    rows = [np.arange(n)]
    numbers = [np.zeros(n, dtype=np.int64)]
    labels = [("(all rows)", "")]
    for spec in specs:
        found, names = codes(frame, spec)
        rows.append(np.arange(n))
        numbers.append(found.astype(np.int64) + len(labels))
        labels.extend((spec.name, value) for value in names)
    return np.concatenate(rows), np.concatenate(numbers), labels


def _fill_classification(
    result: EvaluationResult,
    frame: pd.DataFrame,
    y: pd.Series,
    preds: _inputs.Predictions,
    positive: Any,
    specs: list[Any],
    kpis: dict[str, KPI],
) -> None:
    import numpy as np

    rows, codes, labels = _groups(frame, specs)
    y_values = _inputs.as_labels(y)
    groups = len(labels)
    if len(preds.classes) == 2:
        is_pos = y_values == positive
        said_pos = preds.labels == positive
        found = m.binary_metrics(
            codes,
            groups,
            is_pos[rows],
            said_pos[rows],
            None if preds.scores is None else preds.scores[rows],
            preds.score_is_probability,
            preds.missing_score_reason,
        )
        names: tuple[str, ...] = BINARY
        extra = {
            "positive_rate": np.bincount(
                codes, weights=is_pos[rows].astype(float), minlength=groups
            ),
            "predicted_positive_rate": np.bincount(
                codes, weights=said_pos[rows].astype(float), minlength=groups
            ),
        }
        result.confusion, result.curves, result.calibration = _tables.binary_tables(
            is_pos, said_pos, preds, positive
        )
    else:
        found = m.multiclass_metrics(
            codes,
            groups,
            y_values[rows],
            preds.labels[rows],
            None if preds.proba is None else preds.proba[rows],
            preds.classes,
            preds.missing_score_reason,
        )
        names = MULTICLASS
        extra = {}
        if preds.proba is not None:
            auc, reason = m.multiclass_roc_auc(y_values, preds.proba, preds.classes)
            found.values["roc_auc"][0] = auc
            notes = found.notes.setdefault("roc_auc", [""] * groups)
            notes[0] = reason
            for i in range(1, groups):
                notes[i] = "multiclass ROC AUC is computed on all rows only"
        result.confusion = _tables.confusion(y_values, preds.labels, preds.classes)
    _store(result, found, names, codes, groups, labels, extra, frame, y, preds, kpis)


def _fill_regression(
    result: EvaluationResult,
    frame: pd.DataFrame,
    y: np.ndarray,
    predicted: np.ndarray,
    specs: list[Any],
    kpis: dict[str, KPI],
) -> None:
    import numpy as np

    rows, codes, labels = _groups(frame, specs)
    found = m.regression_metrics(codes, len(labels), y[rows], predicted[rows])
    extra = {
        "mean_target": np.bincount(codes, weights=y[rows], minlength=len(labels)),
        "mean_prediction": np.bincount(codes, weights=predicted[rows], minlength=len(labels)),
    }
    order = np.argsort(y)
    step = max(1, len(y) // 2000)
    result.curves = {
        "residuals": {
            "actual": y[order][::step].tolist(),
            "predicted": predicted[order][::step].tolist(),
        }
    }
    preds = _inputs.Predictions(predicted, None, None, [], False, "")
    y_series = frame[result.target]
    _store(
        result, found, REGRESSION, codes, len(labels), labels, extra, frame, y_series, preds, kpis
    )


def _store(
    result: EvaluationResult,
    found: Any,
    names: tuple[str, ...],
    codes: np.ndarray,
    groups: int,
    labels: list[tuple[str, str]],
    extra: dict[str, np.ndarray],
    frame: pd.DataFrame,
    y: pd.Series,
    preds: _inputs.Predictions,
    kpis: dict[str, KPI],
) -> None:
    import numpy as np
    import pandas as pd

    counts = np.bincount(codes, minlength=groups)
    result.metrics = {n: float(found.values[n][0]) for n in names}
    result.undefined = {
        n: found.reason(n, 0) for n in names if np.isnan(result.metrics[n]) and found.reason(n, 0)
    }
    for n in names:
        if np.isnan(result.metrics[n]) and n not in result.undefined:
            result.undefined[n] = "undefined on these rows"
    n_rows = len(frame)
    y_pred = pd.Series(preds.labels, index=frame.index, name="prediction")
    y_score = None if preds.scores is None else pd.Series(preds.scores, index=frame.index)
    kpi_values: dict[str, np.ndarray] = {k: np.full(groups, np.nan) for k in kpis}
    if kpis:
        for g, members in enumerate(_members(codes, groups, n_rows)):
            for key, kpi in kpis.items():
                kpi_values[key][g] = kpi(
                    key,
                    y.iloc[members],
                    y_pred.iloc[members],
                    frame.iloc[members],
                    None if y_score is None else y_score.iloc[members],
                )
    result.kpis = {k: float(v[0]) for k, v in kpi_values.items()}
    result.kpi_greater_is_better = {k: kpi.greater_is_better for k, kpi in kpis.items()}
    if groups == 1:
        result.slices = pd.DataFrame(
            columns=["slice", "value", "count", "share", *names, *kpis, "notes"]
        )
        return
    table: dict[str, Any] = {
        "slice": [s for s, _ in labels[1:]],
        "value": [v for _, v in labels[1:]],
        "count": counts[1:],
        "share": counts[1:] / n_rows,
    }
    for key, values in extra.items():
        table[key] = values[1:] / np.maximum(counts[1:], 1)
    for n in names:
        table[n] = found.values[n][1:]
    for key, values in kpi_values.items():
        table[key] = values[1:]
    table["notes"] = [
        "; ".join(
            f"{n}: {found.reason(n, g)}"
            for n in names
            if found.reason(n, g) and np.isnan(found.values[n][g])
        )
        for g in range(1, groups)
    ]
    result.slices = pd.DataFrame(table)


def _members(codes: np.ndarray, groups: int, n_rows: int) -> list[np.ndarray]:
    """The row positions of each group (groups repeat the rows, so positions wrap at n_rows)."""
    import numpy as np

    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(groups + 1))
    return [order[bounds[g] : bounds[g + 1]] % n_rows for g in range(groups)]


def _require(result: EvaluationResult, metrics: Sequence[str] | None) -> None:
    if metrics is None:
        return
    known = list(result.metrics)
    for name in metrics:
        if name not in result.metrics:
            raise InvalidInput(
                f"metric {name!r} is not computed for {result.task}."
                + did_you_mean(name, known)
                + f" Available: {', '.join(known)}."
            )
        if name in result.undefined:
            raise InvalidInput(
                f"metric {name!r} is undefined for model {result.model} on these rows: "
                f"{result.undefined[name]}."
            )


def _sort_slices(result: EvaluationResult, primary: str | None, kpis: dict[str, KPI]) -> None:
    if primary is None:
        if result.task == "regression":
            primary = "rmse"
        elif "roc_auc" not in result.undefined and result.metrics.get("roc_auc") is not None:
            primary = "roc_auc"
        else:
            primary = "accuracy"
    elif primary not in result.metrics and primary not in result.kpis:
        raise InvalidInput(
            f"primary_metric {primary!r} is not a metric or KPI of this evaluation."
            + did_you_mean(primary, [*result.metrics, *result.kpis])
        )
    result.primary_metric = primary
    if len(result.slices):
        ascending = greater_is_better(primary, {k: v.greater_is_better for k, v in kpis.items()})
        result.slices = result.slices.sort_values(
            primary, ascending=ascending, na_position="last", kind="stable"
        ).reset_index(drop=True)
