"""Matplotlib figures of evaluation results, and PNG bytes to embed them in reports.

Figures are drawn from the stored tables (curves, calibration, confusion, slices,
importance), so a model card can redraw them from what was logged. The functions read the
attributes of an ``EvaluationResult`` or ``Explanation`` (typed ``Any``): the values draw
themselves through this module, which therefore sits below them (no import circle).
"""

from __future__ import annotations

import base64
import io
from typing import Any

__all__ = ["figures", "importance_figure", "png_base64"]


def _figure(width: float = 4.6, height: float = 3.6) -> tuple[Any, Any]:
    # a bare Figure (no pyplot): no global state, no GUI backend, safe in threads
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    return figure, figure.add_subplot()


def png_base64(figure: Any) -> str:
    """The figure as a base64 PNG (for ``<img src="data:image/png;base64,...">``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def figures(result: Any) -> dict[str, Any]:
    """Every figure the result has data for, by file name."""
    found: dict[str, Any] = {}
    roc = result.curves.get("roc")
    if roc:
        fig, ax = _figure()
        ax.plot(
            roc["fpr"],
            roc["tpr"],
            label=f"ROC AUC {result.metrics.get('roc_auc', float('nan')):.3f}",
        )
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
        ax.legend(loc="lower right")
        found["roc_curve.png"] = fig
    pr = result.curves.get("pr")
    if pr:
        fig, ax = _figure()
        ax.plot(
            pr["recall"],
            pr["precision"],
            label=f"PR AUC {result.metrics.get('pr_auc', float('nan')):.3f}",
        )
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve", ylim=(0, 1.02))
        ax.legend(loc="upper right")
        found["pr_curve.png"] = fig
    if result.calibration is not None and len(result.calibration):
        cal = result.calibration
        fig, ax = _figure()
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        ax.plot(cal["mean_predicted"], cal["fraction_positive"], marker="o")
        ax.set(xlabel="mean predicted probability", ylabel="fraction positive", title="Calibration")
        found["calibration.png"] = fig
    if result.confusion is not None:
        fig, ax = _figure(3.8, 3.4)
        matrix = result.confusion.to_numpy()
        ax.imshow(matrix, cmap="Blues")
        labels = [str(c) for c in result.confusion.columns]
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set(xlabel="predicted", ylabel="actual", title="Confusion matrix")
        top = matrix.max() if matrix.size else 0
        for (i, j), value in _cells(matrix):
            ax.text(
                j,
                i,
                f"{value:,}",
                ha="center",
                va="center",
                color="white" if value > top / 2 else "black",
            )
        found["confusion_matrix.png"] = fig
    residuals = result.curves.get("residuals")
    if residuals:
        fig, ax = _figure()
        ax.scatter(residuals["actual"], residuals["predicted"], s=4, alpha=0.4)
        low = min(residuals["actual"] + residuals["predicted"])
        high = max(residuals["actual"] + residuals["predicted"])
        ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=0.8)
        ax.set(xlabel="actual", ylabel="predicted", title="Predicted against actual")
        found["predicted_vs_actual.png"] = fig
    metric = result.primary_metric
    if metric and result.slices is not None and len(result.slices) and metric in result.slices:
        shown = result.slices.dropna(subset=[metric]).head(15)
        if len(shown):
            fig, ax = _figure(5.6, 0.35 * len(shown) + 1.2)
            names = [f"{s} = {v}" for s, v in zip(shown["slice"], shown["value"], strict=True)]
            ax.barh(names[::-1], shown[metric].to_numpy()[::-1])
            overall = result.metrics.get(metric, result.kpis.get(metric))
            if overall is not None:
                ax.axvline(overall, color="black", linestyle="--", linewidth=0.8, label="all rows")
                ax.legend(loc="lower right")
            ax.set(xlabel=metric, title=f"Worst slices by {metric}")
            found["slices.png"] = fig
    if result.importance is not None and len(result.importance.importances):
        found["importance.png"] = importance_figure(result.importance)
    return found


def _cells(matrix: Any) -> list[tuple[tuple[int, int], int]]:
    return [
        ((i, j), int(matrix[i, j])) for i in range(matrix.shape[0]) for j in range(matrix.shape[1])
    ]


def importance_figure(explanation: Any, top: int = 20) -> Any:
    """Horizontal bars of the ``top`` most important features."""
    table = explanation.importances.head(top)
    fig, ax = _figure(5.6, 0.32 * len(table) + 1.2)
    ax.barh(
        table["feature"].to_numpy()[::-1],
        table["importance"].to_numpy()[::-1],
        xerr=table["std"].to_numpy()[::-1] if "std" in table else None,
    )
    what = "mean |SHAP value|" if explanation.method == "shap" else f"drop in {explanation.scoring}"
    ax.set(xlabel=what, title="Feature importance")
    return fig
