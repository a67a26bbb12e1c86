"""Promotion of a prompt alias, guarded by a gate like a model's (:mod:`mloop.registry.promote`)."""

from __future__ import annotations

from typing import Any

from mloop.core.errors import Conflict, GateFailed, InvalidInput, NotFound
from mloop.core.principal import current_actor
from mloop.genai.prompts.entities import PromptVersion
from mloop.genai.prompts.refs import check_alias
from mloop.genai.prompts.registry import gated_aliases, get_version, move_alias
from mloop.registry.promote import Gate
from mloop.store import audit, get_store

__all__ = ["promote_prompt"]

_KIND = "prompt"


def promote_prompt(
    name: str,
    version: int | str,
    alias: str = "production",
    gate: Gate | None = None,
    data: Any = None,
    force: bool = False,
    reason: str = "",
) -> PromptVersion:
    """Point ``alias`` at ``version`` if ``gate`` passes (or ``force`` with a ``reason``).

    The gate receives the candidate and current :class:`PromptVersion` (``check(candidate,
    incumbent, data=data)``), e.g. an evaluation that scores both on the same examples.
    A gated alias cannot be promoted without a gate unless forced.

    Raises:
        GateFailed: the gate refused (the refusal is in the audit log).
    """
    check_alias(alias)
    if force and not reason.strip():
        raise InvalidInput("a forced promotion needs a reason (it is kept in the audit log).")
    candidate = get_version(name, str(version))
    details: dict[str, Any] = {"candidate": candidate.version}
    if gate is None:
        if alias in gated_aliases(name) and not force:
            raise Conflict(
                f"alias {alias!r} of prompt {name!r} is gated: pass gate=..., or force=True "
                "with a reason."
            )
        action = "prompt.promote.forced" if force else "prompt.promote"
        return move_alias(name, alias, candidate.version, reason, action, details)
    incumbent: PromptVersion | None
    try:
        incumbent = get_version(name, alias)
    except NotFound:
        incumbent = None
    if incumbent is not None:
        details["incumbent"] = incumbent.version
    result = gate.check(candidate, incumbent, data=data)
    details["gate"] = result.to_dict()
    if not result.passed and not force:
        get_store().transaction(
            lambda conn: audit.record(
                conn,
                actor=current_actor(),
                action="prompt.promote.refused",
                object_kind=_KIND,
                object_id=name,
                to_value=f"{alias}={candidate.version}",
                reason=reason,
                details=details,
            )
        )
        raise GateFailed(
            f"promotion of prompt {name!r} version {candidate.version} to {alias!r} refused by "
            "the gate:\n- " + "\n- ".join(result.failures) + "\nImprove the prompt, or force "
            "it with a reason (recorded in the audit log).",
            results=result,
        )
    action = "prompt.promote.forced" if not result.passed else "prompt.promote"
    return move_alias(name, alias, candidate.version, reason, action, details)
