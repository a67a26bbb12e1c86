"""Promotion: moving an alias (``champion``) to a version, guarded by a validation gate.

The gate is any object with ``check(candidate, incumbent, data=, target=)`` returning a
result with ``passed`` (bool) and ``failures`` (readable reasons) — the rule-based gate of
:mod:`mloop.evaluation` is one. A refused promotion raises :class:`GateFailed`, unless it
is forced with a reason, which the audit log keeps.
"""

from __future__ import annotations

from typing import Any, Protocol

from mloop.core.errors import GateFailed, InvalidInput, NotFound
from mloop.core.principal import current_actor
from mloop.registry import versions
from mloop.registry.entities import ModelVersion


class GateResult(Protocol):
    passed: bool

    @property
    def failures(self) -> list[str]: ...

    def to_dict(self) -> dict[str, Any]: ...


class Gate(Protocol):
    def check(
        self, candidate: Any, incumbent: Any, *, data: Any = None, target: str | None = None
    ) -> GateResult: ...


def promote(
    name: str,
    version: int | str,
    alias: str = "champion",
    gate: Gate | None = None,
    data: Any = None,
    target: str | None = None,
    force: bool = False,
    reason: str = "",
) -> ModelVersion:
    """Point ``alias`` at ``version`` if ``gate`` passes (or ``force`` with a ``reason``).

    The candidate and the current holder of the alias are both loaded and handed to the
    gate with ``data`` and ``target``, so rules can compare them on the same rows.

    Args:
        name: the registered model.
        version: the candidate: a number, ``latest`` or an alias.
        alias: the alias to move.
        gate: the gate the candidate must pass (none: promote without checks).
        data: the rows the gate evaluates both models on.
        target: the label column of ``data``.
        force: promote even if the gate fails (needs a ``reason``; the audit log keeps both).
        reason: why, kept in the audit log.

    Raises:
        GateFailed: the gate refused the candidate (its ``results`` say why); the refusal
            is in the audit log.
        InvalidInput: ``force`` without a ``reason``, or an invalid alias.
        NotFound: the model or the candidate version does not exist.
    """
    from mloop.registry.models import load_model

    if force and not reason.strip():
        raise InvalidInput(
            "a forced promotion needs a reason (it is kept in the audit log); pass reason='...'."
        )
    candidate_version = versions.get_version(name, version)
    details: dict[str, Any] = {"candidate": candidate_version.version}
    if gate is not None:
        candidate = load_model(f"models:/{name}/{candidate_version.version}")
        try:
            incumbent_version = versions.get_version(name, alias)
            incumbent = load_model(f"models:/{name}/{incumbent_version.version}")
            details["incumbent"] = incumbent_version.version
        except NotFound:
            incumbent = None
        result = gate.check(candidate, incumbent, data=data, target=target)
        details["gate"] = result.to_dict()
        if not result.passed:
            if not force:
                _record_refusal(name, alias, candidate_version.version, reason, details)
                raise GateFailed(
                    f"promotion of {name} version {candidate_version.version} to {alias!r} refused by the gate:\n- "
                    + "\n- ".join(result.failures)
                    + "\nFix the model, or force it with a reason (recorded in the audit log).",
                    results=result,
                )
            return versions.set_alias(
                name,
                alias,
                candidate_version.version,
                reason=reason,
                action="promote.forced",
                details=details,
            )
    return versions.set_alias(
        name, alias, candidate_version.version, reason=reason, action="promote", details=details
    )


def _record_refusal(
    name: str, alias: str, version: int, reason: str, details: dict[str, Any]
) -> None:
    """Keep a refused promotion in the audit log: who tried, what, and the gate's verdict."""
    from mloop.store import audit, get_store

    store = get_store()
    store.transaction(
        lambda conn: audit.record(
            conn,
            actor=current_actor(),
            action="promote.refused",
            object_kind="registered_model",
            object_id=name,
            to_value=f"{alias}={version}",
            reason=reason,
            details=details,
        )
    )
