"""Logging an evaluation to the active run and recording it for the model version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mloop.evaluation import _records
from mloop.tracking import active_run, log_dict, log_figure, log_input, log_metrics, log_text

if TYPE_CHECKING:
    from mloop.evaluation.result import EvaluationResult


def log_result(result: EvaluationResult, data: Any = None, plots: bool = True) -> None:
    """Metrics, KPIs, ``<name>/result.json``, the slice table and plots into the active run;
    the result is also recorded as the evaluated model version's latest evaluation."""
    import math

    import pandas as pd

    run = active_run()
    key = None
    if run is not None:
        result.run_id = run.info.run_id
        prefix = "" if result.name == "evaluation" else f"{result.name}_"
        values = {**result.metrics, **result.kpis}
        log_metrics({f"{prefix}{k}": v for k, v in values.items() if not math.isnan(v)})
        if isinstance(data, pd.DataFrame):
            log_input(data, context=result.name)
        key = log_dict(result.to_dict(), f"{result.name}/result.json")
        if result.slices is not None and len(result.slices):
            log_text(result.slices.to_csv(index=False), f"{result.name}/slices.csv")
        if plots:
            for file, figure in result.figures().items():
                log_figure(figure, f"{result.name}/{file}")
    if result.model_version is not None:
        _records.save(result.model_version, "evaluation", result.to_dict(), key)
