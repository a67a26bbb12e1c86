"""From feature references (``"view:feature"``, ``"view:*"``, a service) to what to read.

Shared by training sets and online reads, so both resolve names the same way and give
the same output columns: the feature name, or ``"view:feature"`` with ``full_names``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mloop.core.errors import InvalidInput, NotFound, did_you_mean
from mloop.features.feature_view import FeatureView
from mloop.features.on_demand import OnDemandFeatureView

Definition = FeatureView | OnDemandFeatureView


@dataclass
class ViewPart:
    view: FeatureView
    version: int
    features: list[str] = field(default_factory=list)  # read from this view, in view order

    def column(self, feature: str) -> str:
        """The internal column name of a feature read from this view."""
        return f"{self.view.name}:{feature}"


@dataclass
class Plan:
    refs: list[str]  # requested, expanded, in order
    outputs: list[str]  # output column per ref
    views: dict[str, ViewPart]
    on_demand: list[tuple[OnDemandFeatureView, int]]

    @property
    def versions(self) -> dict[str, int]:
        return {
            **{name: part.version for name, part in self.views.items()},
            **{odfv.name: version for odfv, version in self.on_demand},
        }

    @property
    def join_keys(self) -> list[str]:
        keys: list[str] = []
        for part in self.views.values():
            keys += [k for k in part.view.entity.join_keys if k not in keys]
        return keys

    @property
    def request_fields(self) -> list[str]:
        fields: list[str] = []
        for odfv, _ in self.on_demand:
            fields += [f for f in odfv.request if f not in fields]
        return fields


def split_ref(ref: str) -> tuple[str, str]:
    if not isinstance(ref, str) or ref.count(":") != 1 or not all(ref.split(":")):
        raise InvalidInput(
            f"feature reference {ref!r} is not 'view:feature' (e.g. 'weather:temp')."
        )
    view, feature = ref.split(":")
    return view, feature


def build(
    refs: Sequence[str],
    lookup: Callable[[str], tuple[Definition, int] | None],
    names: Callable[[], list[str]],
    full_names: bool = False,
) -> Plan:
    """Resolve ``refs`` with ``lookup(view name)``; unknown names get a did-you-mean hint."""
    if isinstance(refs, str) or not refs:
        raise InvalidInput("features must be a non-empty list of 'view:feature' references.")

    def find(view_name: str) -> tuple[Definition, int]:
        found = lookup(view_name)
        if found is None:
            raise NotFound(
                f"feature view '{view_name}' is not applied."
                + did_you_mean(view_name, names())
                + " Apply it with store.apply([...]) or `mloop features apply`."
            )
        return found

    expanded: list[str] = []
    for ref in refs:
        view_name, feature = split_ref(ref)
        definition, _ = find(view_name)
        available = definition.feature_names
        if feature == "*":
            expanded += [f"{view_name}:{f}" for f in available]
            continue
        if feature not in available:
            hint = did_you_mean(feature, available)
            raise NotFound(
                f"feature view '{view_name}' has no feature '{feature}'.{hint} Its features: {available}."
            )
        expanded.append(ref)
    if len(set(expanded)) != len(expanded):
        twice = sorted({r for r in expanded if expanded.count(r) > 1})
        raise InvalidInput(f"features {twice} are requested twice; list each once.")
    plan = Plan(expanded, [], {}, [])

    def need(view_name: str, feature: str) -> None:
        definition, version = find(view_name)
        if isinstance(definition, OnDemandFeatureView):
            if all(o.name != definition.name for o, _ in plan.on_demand):
                for ref in definition.inputs:
                    need(*split_ref(ref))
                plan.on_demand.append((definition, version))
            return
        part = plan.views.setdefault(view_name, ViewPart(definition, version))
        if feature not in part.features:
            part.features.append(feature)

    for ref in expanded:
        need(*split_ref(ref))
    for part in plan.views.values():
        order = part.view.feature_names
        part.features.sort(key=order.index)
    plan.outputs = [ref if full_names else split_ref(ref)[1] for ref in expanded]
    if len(set(plan.outputs)) != len(plan.outputs):
        twice = sorted({o for o in plan.outputs if plan.outputs.count(o) > 1})
        raise InvalidInput(
            f"features named {twice} come from several views; pass full_names=True to name the "
            "columns 'view:feature'."
        )
    return plan


def on_demand_inputs(
    odfv: OnDemandFeatureView, values: dict[str, Any], request: dict[str, Any]
) -> dict[str, Any]:
    """The columns an on-demand function receives: input features by name, request fields."""
    columns = {split_ref(ref)[1]: values[ref] for ref in odfv.inputs}
    for name in odfv.request:
        columns[name] = request[name]
    return columns
