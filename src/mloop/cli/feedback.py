"""``mloop feedback``: list, count, delete and correct stored ground-truth labels."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(
    help="Ground-truth labels sent to /v1/feedback: list, status, delete, correct.",
    no_args_is_help=True,
)

_GRACE = typer.Option(
    600.0,
    "--grace-seconds",
    help="How long an unmatched label counts as pending (the log may not be flushed yet).",
)


@app.command("list")
def list_(
    model: str = typer.Argument(..., help="Registered model name, e.g. delays."),
    state: str = typer.Option(None, "--state", help="Only matched, pending or unmatched labels."),
    limit: int = typer.Option(100, "--limit", help="At most this many labels, newest first."),
    grace: float = _GRACE,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the labels stored for a model, with whether each met its logged prediction.

    Example: mloop feedback list delays --state unmatched
    """
    from mloop.store.predictions import list_feedback

    rows = list_feedback(model, state=state, limit=limit, grace_seconds=grace)
    if not as_json:
        rows = [
            {**r, "ts": format_ms(r["ts"]), "updated_at": format_ms(r["updated_at"])} for r in rows
        ]
    table(rows, ["request_id", "label", "state", "ts", "updated_at"], f"Labels of {model}", as_json)


@app.command("status")
def status(
    model: str = typer.Argument(..., help="Registered model name."),
    grace: float = _GRACE,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Count a model's labels: matched, pending, unmatched (request ids no server logged)."""
    from mloop.store.predictions import feedback_status

    counts = feedback_status(model, grace_seconds=grace).as_dict()
    if as_json:
        emit_json(counts)
        return
    console.print(
        f"{model}: {counts['labels']:,} labels, {counts['matched']:,} matched, "
        f"{counts['pending']:,} pending, {counts['unmatched']:,} unmatched"
    )


@app.command("delete")
def delete(
    model: str = typer.Argument(..., help="Registered model name."),
    request_ids: list[str] = typer.Argument(None, help="Request ids whose labels to delete."),
    unmatched: bool = typer.Option(
        False, "--unmatched", help="Delete every unmatched label (older than the grace period)."
    ),
    grace: float = _GRACE,
) -> None:
    """Delete labels by request id, or every unmatched label with --unmatched.

    Example: mloop feedback delete delays does-not-exist
    """
    from mloop.core.errors import InvalidInput
    from mloop.store.predictions import delete_feedback, list_feedback

    ids = list(request_ids or [])
    if unmatched:
        ids += [r["request_id"] for r in list_feedback(model, "unmatched", grace_seconds=grace)]
    if not ids:
        raise InvalidInput("name the request ids whose labels to delete, or pass --unmatched.")
    deleted = delete_feedback(model, ids)
    missing = len(set(ids)) - deleted
    console.print(
        f"deleted {deleted:,} label(s) of {model}"
        + (f"; {missing:,} request id(s) had no label" if missing else "")
    )


@app.command("correct")
def correct(
    model: str = typer.Argument(..., help="Registered model name."),
    request_id: str = typer.Argument(..., help="Request id whose label to replace."),
    label: str = typer.Argument(..., help="The correct label (checked against the model)."),
    model_uri: str = typer.Option(
        None,
        "--model-uri",
        help="Model whose label domain checks the label (default models:/<model>/latest).",
    ),
) -> None:
    """Replace a stored label, checked against the model's classes (or numbers for a regressor).

    Example: mloop feedback correct delays 1f0c9a 0
    """
    from mloop.serving import LabelDomain, ModelRuntime
    from mloop.store.predictions import correct_feedback

    runtime = ModelRuntime(model_uri or f"models:/{model}/latest", proba=False)
    runtime.load()
    domain = LabelDomain.of(runtime)
    value = domain.check([domain.parse(label)])[0]
    correct_feedback(model, request_id, value)
    console.print(f"label of {model} request {request_id} is now {value!r}")
