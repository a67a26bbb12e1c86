"""``mloop loop``: retraining decisions, approval and policy steps of the closed loop."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

from pathlib import Path

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(
    help="The closed loop: retraining decisions, approval, policy steps.", no_args_is_help=True
)


@app.command("status")
def loop_status(
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model."),
    policy: str | None = typer.Option(None, "--policy", "-p", help="Only this policy."),
    status_: str | None = typer.Option(None, "--status", help="e.g. awaiting_approval."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Retraining decisions, oldest first: trigger, status, champion and challenger."""
    from mloop.loop import decisions

    rows = [d.to_dict() for d in decisions(model, policy, status_)]
    if not as_json:
        for row in rows:
            row["created_at"] = format_ms(row["created_at"])
    table(
        rows,
        [
            "id",
            "created_at",
            "policy",
            "model",
            "trigger",
            "status",
            "champion_version",
            "candidate_version",
            "reason",
        ],
        "Retraining decisions",
        as_json,
    )


@app.command("show")
def loop_show(decision_id: str = typer.Argument(..., help="Decision id.")) -> None:
    """Everything a decision recorded (evidence, metrics of both models, gate verdict)."""
    from mloop.loop import get_decision

    emit_json(get_decision(decision_id).to_dict())


@app.command("approve")
def loop_approve(
    decision_id: str = typer.Argument(..., help="Decision awaiting approval."),
    reason: str = typer.Option("", "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Promote the challenger of a decision awaiting approval (servers hot-swap to it)."""
    from mloop.loop import approve

    version = approve(decision_id, reason)
    console.print(f"{version.name} version {version.version} is now {', '.join(version.aliases)}.")


@app.command("reject")
def loop_reject(
    decision_id: str = typer.Argument(..., help="Decision awaiting approval."),
    reason: str = typer.Option(..., "--reason", "-r", help="Why (kept in the audit log)."),
) -> None:
    """Turn down the challenger of a decision awaiting approval."""
    from mloop.loop import reject

    decision = reject(decision_id, reason)
    console.print(f"decision {decision.id} rejected; {decision.model} keeps its champion.")


@app.command("step")
def loop_step(
    target: str = typer.Argument(..., help="The policy object as module:attribute."),
    now: str | None = typer.Option(None, "--now", help="The time to act at (default: now)."),
) -> None:
    """Run one step of a policy defined in code (e.g. from cron)."""
    import importlib
    import sys

    from mloop.core.errors import InvalidInput
    from mloop.loop import RetrainingPolicy

    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise InvalidInput(f"{target!r} is not module:attribute, e.g. policies:delays_policy.")
    sys.path.insert(0, str(Path.cwd()))
    policy = getattr(importlib.import_module(module_name), attribute, None)
    if not isinstance(policy, RetrainingPolicy):
        raise InvalidInput(f"{target} is not a RetrainingPolicy (found {type(policy).__name__}).")
    decision = policy.step(now)
    if decision is None:
        console.print(f"policy {policy.name}: no trigger fired.")
    else:
        console.print(
            f"policy {policy.name}: {decision.trigger} → {decision.status}"
            + (
                f" (challenger version {decision.candidate_version})"
                if decision.candidate_version
                else ""
            )
            + f"; decision {decision.id}"
        )
