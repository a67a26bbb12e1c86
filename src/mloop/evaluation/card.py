"""Model cards: one page per model version with the evidence behind it.

Intended use, training run and data, lineage, metrics, slices, plots, importance,
fairness, the gate's verdict and the signature — in HTML (opens offline: plots are
embedded PNGs) or Markdown. What was not recorded is said so, with how to record it.

>>> html = model_card("delays/2")                       # or "delays@champion", "models:/delays/2"
>>> model_card("delays/2", format="md", path="delays-2.md")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mloop.core import display
from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound
from mloop.evaluation import _records
from mloop.evaluation._render import (
    css,
    environment,
    evaluation_context,
    fairness_context,
    frame_table,
    images,
    table,
    when,
)
from mloop.evaluation.fairness import FairnessResult
from mloop.evaluation.gate import GateResult
from mloop.evaluation.plots import importance_figure
from mloop.evaluation.result import EvaluationResult
from mloop.registry import ModelVersion, get_model, get_version
from mloop.store import get_store, lineage
from mloop.tracking import get_run

if TYPE_CHECKING:
    from mloop.evaluation.explain import Explanation

__all__ = ["ModelCard", "model_card", "parse_version_ref"]


class ModelCard(str):
    """The text of a model card (a ``str``), shown rendered in a notebook.

    Attributes:
        markup: ``"html"`` or ``"md"``, the format of the text.
    """

    markup: str

    def __new__(cls, text: str, markup: str = "html") -> ModelCard:
        card = super().__new__(cls, text)
        card.markup = "html" if markup == "html" else "md"
        return card

    def _repr_html_(self) -> str | None:
        # the card is a whole page with its own style: a sandboxed frame keeps it apart
        return display.iframe(str(self), height=700) if self.markup == "html" else None

    def _repr_markdown_(self) -> str | None:
        return str(self) if self.markup == "md" else None


DATA_KINDS = ("dataset_version", "training_set", "feature_view_version", "external")


def parse_version_ref(ref: Any) -> tuple[str, str]:
    """``(name, version_or_alias)`` of ``name/3``, ``name@champion``, ``models:/...`` or ``name``."""
    if isinstance(ref, ModelVersion):
        return ref.name, str(ref.version)
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput(
            f"model {ref!r} is not valid; give 'name/3', 'name@champion' or 'models:/name/3'."
        )
    text = ref.removeprefix("models:/")
    if "@" in text:
        name, alias = text.split("@", 1)
        return name, alias
    if "/" in text:
        name, version = text.split("/", 1)
        return name, version
    return text, "latest"


def model_card(
    model: Any,
    *,
    format: str = "html",
    path: str | Path | None = None,
    evaluation: EvaluationResult | None = None,
    gate: GateResult | None = None,
    fairness: list[FairnessResult] | FairnessResult | None = None,
    explanation: Explanation | None = None,
    intended_use: str | None = None,
    limitations: str | None = None,
) -> ModelCard:
    """The card of a registered model version as HTML or Markdown (written to ``path`` too).

    Evidence not passed in is read from what was recorded: the version's latest
    evaluation and gate result, its training run, and its lineage. The card is a ``str``
    that a notebook shows rendered.

    Example:
        >>> model_card("delays@champion", format="md", path="card.md")

    Args:
        model: the version, as ``"name@alias"``, ``"name/3"``, ``"models:/name@alias"``,
            ``"name"`` (its latest version) or a registry ``ModelVersion``.
        format: ``"html"`` (a self-contained page) or ``"md"``.
        path: where to write the card as well.
        evaluation: the evaluation to show instead of the version's latest one.
        gate: the gate result to show instead of the version's latest one.
        fairness: fairness results to add.
        explanation: global feature importance to add.
        intended_use: the text of the "intended use" section.
        limitations: the text of the "limitations" section.

    Raises:
        InvalidInput: an unknown ``format`` or a malformed ``model`` reference.
        NotFound: the model, its version or its alias does not exist.
    """
    if format not in ("html", "md", "markdown"):
        raise InvalidInput(f"card format {format!r} is unknown; use 'html' or 'md'.")

    name, ref = parse_version_ref(model)
    version = get_version(name, ref)
    context = _context(version, evaluation, gate, fairness, explanation, intended_use, limitations)

    markdown = format != "html"
    template = environment(markdown).get_template("card.md.j2" if markdown else "card.html.j2")
    text = str(template.render(c=context, css=css()))
    if path is not None:
        Path(path).write_text(text)
    return ModelCard(text, "html" if not markdown else "md")


def _context(
    version: ModelVersion,
    evaluation: EvaluationResult | None,
    gate: GateResult | None,
    fairness: list[FairnessResult] | FairnessResult | None,
    explanation: Explanation | None,
    intended_use: str | None,
    limitations: str | None,
) -> dict[str, Any]:
    model = get_model(version.name)
    if evaluation is None:
        stored = _records.load(version, "evaluation")
        evaluation = None if stored is None else EvaluationResult.from_dict(stored)
    if gate is None:
        stored = _records.load(version, "gate")
        gate = None if stored is None else GateResult.from_dict(stored)
    extra = [fairness] if isinstance(fairness, FairnessResult) else list(fairness or [])
    importance_image = None
    importance = table([], [])
    if explanation is not None:
        importance_image = images({"importance.png": importance_figure(explanation)})[0]
        importance = frame_table(explanation.importances, 30)
    signature = version.signature or {}
    lineage_rows, data_rows = _lineage(version)
    user_tags = {k: v for k, v in version.tags.items() if not k.startswith("mloop.")}
    return {
        "title": f"{version.name} version {version.version}",
        "name": version.name,
        "version": version.version,
        "aliases": list(version.aliases),
        "flavor": version.flavor,
        "status": version.status,
        "created": when(version.creation_timestamp),
        "created_by": version.user_id,
        "description": version.description or model.description,
        "intended_use": intended_use
        or user_tags.get("intended_use")
        or model.tags.get("intended_use")
        or "",
        "limitations": limitations or user_tags.get("limitations") or "",
        "run": _run(version.run_id),
        "data": table(
            ["kind", "id", "relation", "context"],
            data_rows,
            "no input data is recorded (log it with mloop.log_input in the training run)",
        ),
        "lineage": table(
            ["from", "relation", "to", "depth"], lineage_rows, "no lineage is recorded"
        ),
        "evaluation": None if evaluation is None else evaluation_context(evaluation),
        "extra_fairness": [fairness_context(f) for f in extra],
        "importance_image": importance_image,
        "importance": importance,
        "gate": None
        if gate is None
        else {
            "name": gate.gate,
            "passed": gate.passed,
            "when": when(gate.created_at),
            "rules": table(
                ["rule", "verdict", "detail"],
                [
                    [r.rule, "skipped" if r.skipped else "pass" if r.passed else "FAIL", r.message]
                    for r in gate.rules
                ],
            ),
        },
        "inputs": table(
            ["name", "type", "optional"],
            [
                [c["name"], c["type"], "yes" if c.get("optional") else "no"]
                for c in signature.get("inputs", [])
            ],
            "no signature (log the model with input_example=...)",
        ),
        "outputs": table(
            ["name", "type"],
            [[c["name"], c["type"]] for c in signature.get("outputs", [])],
            "not recorded",
        ),
        "generated": when(now_ms()),
    }


def _run(run_id: str | None) -> dict[str, Any] | None:
    if not run_id:
        return None

    try:
        run = get_run(run_id)
    except NotFound:
        return None
    tags = run.data.tags
    return {
        "id": run_id,
        "name": run.info.run_name,
        "status": run.info.status,
        "started": when(run.info.start_time),
        "commit": tags.get("mloop.source.git.commit", ""),
        "params": table(["param", "value"], [[k, v] for k, v in sorted(run.data.params.items())]),
        "metrics": table(
            ["metric", "value"], [[k, v] for k, v in sorted(run.data.metrics.items())]
        ),
    }


def _lineage(version: ModelVersion) -> tuple[list[list[Any]], list[list[Any]]]:
    edges = lineage.upstream(get_store(), lineage.Node("model_version", version.key))
    rows = [[str(e.source), e.relation, str(e.target), e.depth] for e in edges]
    data = [
        [
            e.source.kind,
            e.source.id,
            e.relation,
            (e.properties or {}).get("context", ""),
        ]
        for e in edges
        if e.source.kind in DATA_KINDS
    ]
    return rows, data
