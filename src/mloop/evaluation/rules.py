"""Declarative gate rules; each returns pass or fail with a readable reason.

>>> from mloop.evaluation import Gate, rules
>>> gate = Gate([
...     rules.min_metric("roc_auc", 0.70),
...     rules.max_regression("roc_auc", 0.01),            # vs the current champion
...     rules.max_fairness_difference("origin", 0.10),
...     rules.checks_passed("flights"),                   # a stored mloop.data suite
...     rules.kpi("missed_delay_cost", cost, max=50_000),
... ])

A rule on an undefined metric fails (it cannot show that the model is good enough).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mloop.core.errors import InvalidInput, did_you_mean
from mloop.data import Suite
from mloop.evaluation._plain import plain
from mloop.evaluation.fairness import SUMMARIES
from mloop.evaluation.kpi import KPI

if TYPE_CHECKING:
    from mloop.evaluation.result import EvaluationResult

__all__ = [
    "Context",
    "Rule",
    "RuleResult",
    "checks_passed",
    "kpi",
    "max_fairness_difference",
    "max_metric",
    "max_regression",
    "min_metric",
]


@dataclass
class RuleResult:
    """One rule's verdict: ``passed``, what was observed, and why."""

    rule: str
    passed: bool
    message: str
    observed: float | None = None
    limit: float | None = None
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "rule": self.rule,
                "passed": self.passed,
                "message": self.message,
                "observed": self.observed,
                "limit": self.limit,
                "skipped": self.skipped,
            }
        )


@dataclass
class Context:
    """What rules look at: the evaluations of the candidate and incumbent, and the rows."""

    candidate: EvaluationResult
    incumbent: EvaluationResult | None
    data: Any
    target: str | None


@dataclass
class Rule:
    """A named check over a :class:`Context`; build rules with the functions of this module."""

    kind: str
    params: dict[str, Any]
    check: Callable[[Context], RuleResult] = field(repr=False, compare=False)
    needs_incumbent: bool = False
    kpis: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    sensitive: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.params.items() if k != "function")
        return f"{self.kind}({shown})"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.kind, **self.params}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidInput(f"{what} {value!r} is not a number; give a number such as 0.7.")
    return float(value)


def _value(result: EvaluationResult, name: str, rule: str) -> tuple[float | None, str]:
    """The metric or KPI ``name`` of ``result``, or None with the reason it is missing."""
    if name in result.metrics:
        value = result.metrics[name]
        if math.isnan(value):
            return None, f"{name} is undefined ({result.undefined.get(name, 'no value')})"
        return value, ""
    if name in result.kpis:
        return result.kpis[name], ""
    known = [*result.metrics, *result.kpis]
    raise InvalidInput(
        f"rule {rule}: {name!r} is not a metric or KPI of a {result.task} evaluation."
        + did_you_mean(name, known)
        + f" Available: {', '.join(known)}."
    )


def _bound(metric: str, value: float, *, minimum: bool) -> Rule:
    kind = "min_metric" if minimum else "max_metric"
    limit = _number(value, f"{kind} value for {metric!r}")

    def check(context: Context) -> RuleResult:
        name = f"{kind}({metric})"
        observed, missing = _value(context.candidate, metric, name)
        if observed is None:
            return RuleResult(name, False, f"{missing}; the rule cannot pass", None, limit)
        ok = observed >= limit if minimum else observed <= limit
        side = "below the minimum" if minimum else "above the maximum"
        message = (
            f"{metric} = {observed:.4g} (limit {limit:.4g})"
            if ok
            else f"{metric} = {observed:.4g} is {side} {limit:.4g}"
        )
        return RuleResult(name, ok, message, observed, limit)

    return Rule(kind, {"metric": metric, "value": limit}, check)


def min_metric(metric: str, value: float) -> Rule:
    """The candidate's ``metric`` (or KPI) must be at least ``value``.

    >>> min_metric("roc_auc", 0.7)
    """
    return _bound(metric, value, minimum=True)


def max_metric(metric: str, value: float) -> Rule:
    """The candidate's ``metric`` (e.g. ``log_loss``, ``rmse``) must be at most ``value``."""
    return _bound(metric, value, minimum=False)


def max_regression(metric: str, max_drop: float = 0.0, relative: bool = False) -> Rule:
    """The candidate may be worse than the incumbent on ``metric`` by at most ``max_drop``.

    "Worse" follows the metric's direction (lower ROC AUC, higher RMSE...). With
    ``relative=True``, ``max_drop`` is a fraction of the incumbent's value. Passes, marked
    skipped, when there is no incumbent yet (a first promotion).

    >>> max_regression("roc_auc", 0.01)
    """
    limit = _number(max_drop, f"max_regression max_drop for {metric!r}")
    if limit < 0:
        raise InvalidInput(f"max_drop {max_drop} is negative; give 0 or more (0: no drop allowed).")

    def check(context: Context) -> RuleResult:
        name = f"max_regression({metric})"
        if context.incumbent is None:
            return RuleResult(name, True, "no incumbent to compare with; skipped", skipped=True)
        new, missing = _value(context.candidate, metric, name)
        old, old_missing = _value(context.incumbent, metric, name)
        if new is None or old is None:
            reason = missing or f"incumbent's {old_missing}"
            return RuleResult(name, False, f"{reason}; the rule cannot pass", None, limit)
        higher = context.candidate.greater_is_better(metric)
        drop = (old - new) if higher else (new - old)
        if relative:
            drop = drop / abs(old) if old else (0.0 if drop <= 0 else math.inf)
        ok = drop <= limit + 1e-12
        unit = " (relative)" if relative else ""
        if ok:
            message = f"{metric} {old:.4g} → {new:.4g}; change within {limit:.4g}{unit}"
        else:
            message = (
                f"{metric} got worse against the incumbent: {old:.4g} → {new:.4g}, a drop of "
                f"{drop:.4g}{unit}; at most {limit:.4g} allowed"
            )
        return RuleResult(name, ok, message, drop, limit)

    params: dict[str, Any] = {"metric": metric, "max_drop": limit}
    if relative:
        params["relative"] = True
    return Rule("max_regression", params, check, needs_incumbent=True)


def max_fairness_difference(
    sensitive: str | tuple[str, ...] | list[str],
    max_difference: float = 0.1,
    metric: str = "demographic_parity_difference",
) -> Rule:
    """The candidate's fairness ``metric`` over ``sensitive`` must be at most ``max_difference``.

    ``metric`` is ``demographic_parity_difference`` or ``equalized_odds_difference`` (or
    ``demographic_parity_ratio``, which must then be at least ``max_difference``).

    >>> max_fairness_difference("origin", 0.1)
    """
    if metric not in SUMMARIES:
        raise InvalidInput(
            f"fairness metric {metric!r} is unknown."
            + did_you_mean(metric, SUMMARIES)
            + f" Use one of {', '.join(SUMMARIES)}."
        )
    limit = _number(max_difference, f"max_fairness_difference limit for {metric}")
    spec = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
    key = " × ".join(spec)
    is_ratio = metric == "demographic_parity_ratio"

    def check(context: Context) -> RuleResult:
        name = f"max_fairness_difference({key}, {metric})"
        found = context.candidate.fairness.get(key)
        if found is None:
            return RuleResult(name, False, f"no fairness result for {key!r}", None, limit)
        value = found.summary(metric)
        if math.isnan(value):
            reason = found.undefined.get(metric, "undefined")
            return RuleResult(
                name, False, f"{metric} over {key!r} is undefined ({reason})", None, limit
            )
        ok = value >= limit if is_ratio else value <= limit
        bound = "at least" if is_ratio else "at most"
        message = f"{metric} over {key!r} is {value:.4g}; {bound} {limit:.4g} allowed"
        return RuleResult(name, ok, message, value, limit)

    params: dict[str, Any] = {
        "sensitive": spec[0] if len(spec) == 1 else list(spec),
        "max_difference": limit,
        "metric": metric,
    }
    return Rule("max_fairness_difference", params, check, sensitive=spec)


def checks_passed(suite: Any, data: Any = None) -> Rule:
    """The data must pass a :mod:`mloop.data` suite (no failed error-level check).

    ``suite`` is a ``mloop.data.Suite``, a stored suite name (``flights`` or ``flights@2``)
    or a suite YAML file; ``data`` (default: the gate's data) a DataFrame, a dataset
    reference or a path.

    >>> checks_passed("flights@1")
    """
    if not isinstance(suite, Suite | str):
        raise InvalidInput(
            f"checks_passed got a {type(suite).__name__}; give a mloop.data.Suite, a stored suite "
            "name such as 'flights@2', or a suite YAML path."
        )
    label = suite.name if isinstance(suite, Suite) else suite

    def check(context: Context) -> RuleResult:
        name = f"checks_passed({label})"
        loaded = suite
        if isinstance(loaded, str):
            loaded = (
                Suite.from_yaml(loaded)
                if loaded.endswith((".yaml", ".yml"))
                else Suite.load(loaded)
            )
        rows = data if data is not None else context.data
        if rows is None:
            return RuleResult(name, False, "no data to check; pass data to the gate", None, None)
        result = loaded.validate(rows)
        if result.success:
            warned = f" ({len(result.warnings)} warnings)" if result.warnings else ""
            return RuleResult(
                name, True, f"all {len(result.checks)} checks passed{warned}", 0.0, 0.0
            )
        failed = "; ".join(c.describe() for c in result.errors[:5])
        count = len(result.errors)
        return RuleResult(
            name,
            False,
            f"{count} error-level check{'s' if count > 1 else ''} failed: {failed}",
            float(count),
            0.0,
        )

    return Rule("checks_passed", {"suite": label}, check)


def kpi(
    name: str,
    function: Any = None,
    *,
    min: float | None = None,
    max: float | None = None,
    max_regression: float | None = None,
    greater_is_better: bool | None = None,
) -> Rule:
    """A business KPI must stay within ``min``/``max`` and/or not regress by more than
    ``max_regression`` against the incumbent.

    ``function`` is ``fn(y_true, y_pred, data)`` or a :class:`~mloop.evaluation.KPI` (or a
    ``"module:attr"`` name of one).

    >>> kpi("missed_delay_cost", KPI(cost, greater_is_better=False), max=50_000)
    """
    if min is None and max is None and max_regression is None:
        raise InvalidInput(f"kpi rule {name!r} needs min=, max= or max_regression=.")
    spec = function if isinstance(function, str) else None
    if spec is not None:
        function = _import(spec, f"kpi rule {name!r}")
    if function is None:
        raise InvalidInput(f"kpi rule {name!r} needs the KPI function: kpi(name, fn, max=...).")
    found = function if isinstance(function, KPI) else KPI(function)
    if not callable(found.fn):
        raise InvalidInput(f"kpi rule {name!r}: {function!r} is not callable.")
    if greater_is_better is not None:
        found = KPI(found.fn, greater_is_better)
    low = None if min is None else _number(min, f"kpi {name!r} min")
    high = None if max is None else _number(max, f"kpi {name!r} max")
    drop = (
        None if max_regression is None else _number(max_regression, f"kpi {name!r} max_regression")
    )

    def check(context: Context) -> RuleResult:
        rule = f"kpi({name})"
        value = context.candidate.kpis.get(name)
        if value is None or math.isnan(value):
            return RuleResult(rule, False, f"KPI {name!r} has no value", None, None)
        problems = []
        if low is not None and value < low:
            problems.append(f"{name} = {value:.4g} is below the minimum {low:.4g}")
        if high is not None and value > high:
            problems.append(f"{name} = {value:.4g} is above the maximum {high:.4g}")
        if drop is not None and context.incumbent is not None:
            old = context.incumbent.kpis.get(name, math.nan)
            worse = (old - value) if found.greater_is_better else (value - old)
            if not math.isnan(old) and worse > drop:
                problems.append(
                    f"{name} got worse against the incumbent: {old:.4g} → {value:.4g}; at most "
                    f"{drop:.4g} allowed"
                )
        if problems:
            return RuleResult(
                rule, False, "; ".join(problems), value, high if high is not None else low
            )
        return RuleResult(
            rule,
            True,
            f"{name} = {value:.4g} within limits",
            value,
            high if high is not None else low,
        )

    params: dict[str, Any] = {"name": name}
    if spec is not None:
        params["function"] = spec
    for key, value in (("min", low), ("max", high), ("max_regression", drop)):
        if value is not None:
            params[key] = value
    return Rule("kpi", params, check, needs_incumbent=drop is not None, kpis={name: found})


def _import(spec: str, what: str) -> Any:
    """The object named ``module:attr`` (the current folder is importable)."""
    import importlib
    import os
    import sys

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InvalidInput(f"{what}: {spec!r} is not 'module:attribute' (e.g. 'gates:delay_gate').")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(f"{what}: cannot import module {module_name!r} ({exc}).") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise InvalidInput(
            f"{what}: module {module_name!r} has no attribute {attr!r}."
            + did_you_mean(attr, [n for n in dir(module) if not n.startswith("_")])
        ) from None
