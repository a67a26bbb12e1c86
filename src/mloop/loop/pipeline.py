"""A pipeline as a policy's training step: run with the cut-off time as a parameter.

>>> training = PipelineTraining(training_pipeline, params={"model.max_iter": 200},
...                             reference=("validation", "delayed"))
>>> RetrainingPolicy("delays", "delays", train=training, triggers=[DriftTrigger()])

The pipeline reads ``params:until`` (an ISO time, UTC) and must register a new version of
the model (a ``ModelDataset`` output or ``log_model(..., registered_model_name=...)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound
from mloop.pipelines import run
from mloop.registry import list_versions

if TYPE_CHECKING:
    from mloop.loop.training import TrainingContext
    from mloop.registry import ModelVersion

__all__ = ["PipelineTraining"]


class PipelineTraining:
    """Run ``pipeline`` (an object or a project pipeline name) for each retraining.

    Args:
        pipeline: a :class:`mloop.pipelines.Pipeline` or the name of a project pipeline.
        catalog: extra catalog entries (as for :func:`mloop.pipelines.run`).
        params: parameter overrides; ``until_param`` is set to the cut-off time.
        runner: the pipeline runner (``sequential``, ``parallel``, ``ray``).
        reference: ``(output, target)``: a free output of the pipeline (a DataFrame, e.g.
            the validation rows) to profile as the challenger's monitoring reference.
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        catalog: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        until_param: str = "until",
        runner: Any = None,
        reference: tuple[str, str | None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.catalog = dict(catalog or {})
        self.params = dict(params or {})
        self.until_param = until_param
        self.runner = runner
        if reference is not None and (not isinstance(reference, tuple) or len(reference) != 2):
            raise InvalidInput(
                f"reference = {reference!r} must be (output name, target column), e.g. "
                "('validation', 'delayed')."
            )
        self.reference = reference

    def __repr__(self) -> str:
        return f"PipelineTraining({getattr(self.pipeline, 'name', self.pipeline)!r})"

    def __call__(self, context: TrainingContext) -> ModelVersion:
        started = now_ms()
        params = {**self.params, self.until_param: context.until_datetime.isoformat()}
        result = run(
            self.pipeline,
            catalog=self.catalog or None,
            params=params,
            runner=self.runner,
            name=f"retrain-{context.model}",
        )
        if self.reference is not None:
            output, target = self.reference
            if output not in result.outputs:
                raise NotFound(
                    f"pipeline output {output!r} (the reference rows) was not produced; free "
                    f"outputs: {', '.join(result.outputs) or '(none)'}."
                )
            context.set_reference(result.outputs[output], target)
        try:
            fresh = [v for v in list_versions(context.model) if v.creation_timestamp >= started]
        except NotFound:
            fresh = []
        if not fresh:
            raise InvalidInput(
                f"the pipeline ran (run {result.run_id}) but registered no new version of "
                f"{context.model!r}; save the model to a ModelDataset(model={context.model!r}) "
                "output or call log_model(..., registered_model_name=...)."
            )
        return fresh[0]
