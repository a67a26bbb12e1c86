"""Gates: the rules a model must pass before the registry moves an alias to it.

    gate = Gate([rules.min_metric("roc_auc", 0.7), rules.max_regression("roc_auc", 0.01)])
    mloop.registry.promote("delays", 3, alias="champion", gate=gate, data=test_df, target="late")

``promote`` calls :meth:`Gate.check` with the candidate and the current holder of the
alias; the gate evaluates both on the same rows and every rule gives its verdict. A gate
can be written in YAML (``mloop models promote --gate gate.yaml``)::

    gate: delays
    threshold: 0.5
    rules:
      - rule: min_metric
        metric: roc_auc
        value: 0.7
      - rule: max_regression
        metric: roc_auc
        max_drop: 0.01
      - rule: kpi
        name: missed_delay_cost
        function: delay_kpis:missed_delay_cost
        max: 50000
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mloop.core.clock import now_ms
from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.evaluation import _records
from mloop.evaluation import rules as rule_module
from mloop.evaluation._inputs import load_frame
from mloop.evaluation._plain import plain
from mloop.evaluation.evaluate import evaluate
from mloop.evaluation.rules import Context, Rule, RuleResult

__all__ = ["Gate", "GateResult", "load_gate"]


@dataclass
class GateResult:
    """Every rule's verdict; ``passed`` only when all rules passed."""

    gate: str
    passed: bool
    rules: list[RuleResult]
    candidate: dict[str, Any]
    incumbent: dict[str, Any] | None = None
    created_at: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        """One readable line per failed rule."""
        return [f"{r.rule}: {r.message}" for r in self.rules if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "gate": self.gate,
                "passed": self.passed,
                "failures": self.failures,
                "rules": [r.to_dict() for r in self.rules],
                "candidate": self.candidate,
                "incumbent": self.incumbent,
                "created_at": self.created_at,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        return cls(
            gate=data.get("gate", "gate"),
            passed=bool(data["passed"]),
            rules=[
                RuleResult(
                    r["rule"],
                    bool(r["passed"]),
                    r.get("message", ""),
                    r.get("observed"),
                    r.get("limit"),
                    bool(r.get("skipped", False)),
                )
                for r in data.get("rules", [])
            ],
            candidate=data.get("candidate") or {},
            incumbent=data.get("incumbent"),
            created_at=int(data.get("created_at") or 0),
        )

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"gate {self.gate!r} {verdict}"]
        lines += [
            f"  [{'skip' if r.skipped else 'pass' if r.passed else 'FAIL'}] {r.rule}: {r.message}"
            for r in self.rules
        ]
        return "\n".join(lines)


class Gate:
    """A list of rules, with the evaluation settings they are judged on.

    Example:
        >>> gate = Gate([rules.min_metric("roc_auc", 0.7)], threshold=0.4)
        >>> gate.check("models:/delays/3", "models:/delays@champion", data=df, target="late").passed

    Args:
        rules: the rules, from :mod:`mloop.evaluation.rules`; all must pass.
        name: the gate's name, in results and the audit log.
        task: ``"classification"`` or ``"regression"`` (inferred when omitted).
        threshold: the probability threshold of a binary classifier's positive class.
        pos_label: the positive class.
        record: store each result with the candidate's registered version.

    Raises:
        InvalidInput: no rules, or an item that is not a rule.
    """

    def __init__(
        self,
        rules: Iterable[Rule],
        name: str = "gate",
        task: str | None = None,
        threshold: float | None = None,
        pos_label: Any = None,
        record: bool = True,
    ) -> None:
        self.rules = list(rules)
        for i, rule in enumerate(self.rules):
            if not isinstance(rule, Rule):
                raise InvalidInput(
                    f"gate {name!r}: item {i + 1} is a {type(rule).__name__}, not a rule; build "
                    "rules with mloop.evaluation.rules (min_metric, max_regression, ...)."
                )
        if not self.rules:
            raise InvalidInput(f"gate {name!r} has no rules; give at least one.")
        self.name = name
        self.task = task
        self.threshold = threshold
        self.pos_label = pos_label
        self.record = record

    def __repr__(self) -> str:
        return f"Gate({self.name!r}, {[r.name for r in self.rules]})"

    def check(
        self, candidate: Any, incumbent: Any = None, *, data: Any = None, target: str | None = None
    ) -> GateResult:
        """Evaluate ``candidate`` (and ``incumbent`` when a rule compares) on ``data``; judge.

        A failed rule is not an error: the result says ``passed=False`` and why
        (:func:`mloop.registry.promote` turns that into :class:`~mloop.errors.GateFailed`).

        Args:
            candidate: a model or model URI.
            incumbent: the model it must not be worse than (when a rule compares).
            data: a DataFrame, dataset reference or Parquet/CSV path.
            target: the label column.

        Raises:
            InvalidInput: the data or target is not usable (see :func:`mloop.evaluate`).
            NotFound: a model URI, dataset or file that does not exist.
        """
        frame, _ = load_frame(data, "gate data")
        kpis: dict[str, Any] = {}
        sensitive: list[tuple[str, ...]] = []
        for rule in self.rules:
            kpis.update(rule.kpis)
            if rule.sensitive is not None and rule.sensitive not in sensitive:
                sensitive.append(rule.sensitive)
        settings = {
            "target": target,
            "task": self.task,
            "kpis": kpis,
            "threshold": self.threshold,
            "pos_label": self.pos_label,
            "sensitive": sensitive or None,
            "log": False,
        }
        new = evaluate(candidate, frame, name="gate.candidate", **settings)
        old = None
        if incumbent is not None and any(r.needs_incumbent for r in self.rules):
            old = evaluate(incumbent, frame, name="gate.incumbent", **settings)
        rows = data if isinstance(data, str) or hasattr(data, "lineage_node") else frame
        context = Context(new, old, rows, target)
        verdicts = [rule.check(context) for rule in self.rules]

        def summary(result: Any) -> dict[str, Any]:
            return {
                "model": result.model,
                "model_version": result.model_version,
                "metrics": result.metrics,
                "kpis": result.kpis,
            }

        result = GateResult(
            gate=self.name,
            passed=all(v.passed for v in verdicts),
            rules=verdicts,
            candidate=summary(new),
            incumbent=None if old is None else summary(old),
            created_at=now_ms(),
        )
        if self.record and new.model_version is not None:
            _records.save(new.model_version, "gate", result.to_dict())
        return result

    # -- definitions -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"gate": self.name}
        for key in ("task", "threshold", "pos_label"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        data["rules"] = [rule.to_dict() for rule in self.rules]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "gate") -> Gate:
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            raise InvalidInput(
                f"{where}: a gate needs a 'rules:' list (and optionally 'gate: <name>')."
            )
        unknown = set(data) - {"gate", "task", "threshold", "pos_label", "rules"}
        if unknown:
            raise InvalidInput(
                f"{where}: unknown key {sorted(unknown)[0]!r}; a gate has gate, task, threshold, "
                "pos_label and rules."
            )
        built = [_rule(item, f"{where}, rule {i + 1}") for i, item in enumerate(data["rules"])]
        return cls(
            built,
            name=str(data.get("gate", "gate")),
            task=data.get("task"),
            threshold=data.get("threshold"),
            pos_label=data.get("pos_label"),
        )

    def to_yaml(self, path: str | Path | None = None) -> str:
        import yaml

        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> Gate:
        """A gate from YAML text or a ``.yaml``/``.yml`` file.

        Raises:
            NotFound: the file does not exist.
            InvalidInput: malformed YAML, or a rule that is unknown or badly specified.
        """
        import yaml

        text, where = str(source), "gate YAML"
        if isinstance(source, Path) or ("\n" not in text and text.endswith((".yaml", ".yml"))):
            path = Path(source)
            if not path.is_file():
                raise NotFound(f"gate file {str(path)!r} does not exist; check the path.")
            text, where = path.read_text(), str(path)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{where} is not valid YAML: {exc}".splitlines()[0]) from None
        return cls.from_dict(data, where)


_BUILDERS: dict[str, Callable[..., Rule]] = {
    "min_metric": rule_module.min_metric,
    "max_metric": rule_module.max_metric,
    "max_regression": rule_module.max_regression,
    "max_fairness_difference": rule_module.max_fairness_difference,
    "checks_passed": rule_module.checks_passed,
    "kpi": rule_module.kpi,
}


def _rule(item: Any, where: str) -> Rule:
    import inspect

    if not isinstance(item, dict) or "rule" not in item:
        raise InvalidInput(
            f"{where}: each rule needs 'rule: <kind>' (one of {', '.join(_BUILDERS)})."
        )
    kind = item["rule"]
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise InvalidInput(
            f"{where}: rule kind {kind!r} is unknown."
            + did_you_mean(str(kind), _BUILDERS)
            + f" Use one of {', '.join(_BUILDERS)}."
        )
    params = {k: v for k, v in item.items() if k != "rule"}
    allowed = list(inspect.signature(builder).parameters)
    for key in params:
        if key not in allowed:
            raise InvalidInput(
                f"{where}: {kind} has no setting {key!r}."
                + did_you_mean(key, allowed)
                + f" Its settings: {', '.join(allowed)}."
            )
    try:
        return builder(**params)
    except TypeError as exc:
        raise InvalidInput(f"{where}: {kind} {exc}; its settings: {', '.join(allowed)}.") from None


def load_gate(spec: Any) -> Gate:
    """A gate from a :class:`Gate`, a YAML file path, or ``module:attr`` naming a Gate.

    Raises:
        InvalidInput: ``spec`` is none of these, cannot be imported, or is not a Gate.
        NotFound: the YAML file does not exist.
    """
    if isinstance(spec, Gate):
        return spec
    if isinstance(spec, str | Path) and str(spec).endswith((".yaml", ".yml")):
        return Gate.from_yaml(Path(spec))
    if isinstance(spec, str) and ":" in spec:
        found = rule_module._import(spec, "gate")
        if callable(found) and not isinstance(found, Gate):
            found = found()
        if not isinstance(found, Gate):
            raise InvalidInput(
                f"gate {spec!r} is a {type(found).__name__}, not a mloop.evaluation.Gate."
            )
        return found
    raise InvalidInput(
        f"gate {spec!r} is not valid; give a gate YAML file (gate.yaml) or 'module:attribute' "
        "naming a mloop.evaluation.Gate."
    )
