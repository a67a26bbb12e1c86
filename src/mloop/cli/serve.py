"""``mloop serve`` (a model or graphs over HTTP) and ``mloop score`` (batch scoring)."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

from pathlib import Path

import typer

from mloop.cli.output import console


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("score")(score)


def serve(
    targets: list[str] = typer.Argument(
        ...,
        help="models:/<name>@<alias>, models:/<name>/<version>, or a graph: file.py:graph / module:graph.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (each loads the models)."),
    max_batch_rows: int = typer.Option(256, "--max-batch-rows", help="Rows per predict call."),
    max_wait_ms: float = typer.Option(
        1.0, "--max-wait-ms", help="Longest wait for a batch to fill under load (never when idle)."
    ),
    max_queue: int = typer.Option(2048, "--max-queue", help="Waiting requests before 429."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds before a request gets 504."),
    max_body_mb: float = typer.Option(10.0, "--max-body-mb", help="Largest request body (413)."),
    poll_seconds: float = typer.Option(
        1.5, "--poll-seconds", help="How often an alias is checked for a new version."
    ),
    no_log: bool = typer.Option(False, "--no-log", help="Do not write the prediction log."),
) -> None:
    """Serve models or application graphs over HTTP (FastAPI on uvicorn).

    Example: mloop serve models:/delays@champion --port 8080
    """
    import json
    import os

    import uvicorn

    from mloop.core.errors import InvalidInput
    from mloop.server.serving import OPTIONS_ENV, TARGET_ENV

    if workers < 1:
        raise InvalidInput(f"--workers {workers} must be at least 1.")
    os.environ[TARGET_ENV] = "\n".join(targets)
    os.environ[OPTIONS_ENV] = json.dumps(
        {
            "log": not no_log,
            "poll_seconds": poll_seconds,
            "limits": {
                "max_batch_rows": max_batch_rows,
                "max_wait_ms": max_wait_ms,
                "max_queue": max_queue,
                "timeout_s": timeout,
                "max_body_bytes": int(max_body_mb * 1024 * 1024),
            },
        }
    )
    if workers == 1:  # fail fast, in this process, on a bad target
        from mloop.server.serving import app_from_env

        app = app_from_env()
        app.state.service.load()  # before the port is bound: a bad model is a one-line error
        console.print(f"[bold]mloop serve[/bold] {' '.join(targets)} on http://{host}:{port}")
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=30)
        return
    from mloop.serving import check_target

    check_target(targets)  # each worker loads the models; this process checks they exist
    uvicorn.run(
        "mloop.server.serving:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_graceful_shutdown=30,
    )


def score(
    model: str = typer.Argument(
        ..., help="models:/<name>@<alias>, models:/<name>/<n> or runs:/..."
    ),
    input: str = typer.Option(
        ..., "--input", "-i", help="A dataset (name@version) or a .parquet / .csv file."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write: .parquet or .csv."),
    chunk_rows: int = typer.Option(50_000, "--chunk-rows", help="Rows scored at a time."),
    runner: str = typer.Option(
        None, "--runner", help="local or ray (default: the runner setting)."
    ),
    no_proba: bool = typer.Option(False, "--no-proba", help="Write predictions only."),
) -> None:
    """Score a dataset or file with a model, in chunks, and link the output in lineage.

    Example: mloop score models:/delays@champion --input flights@3 --output scored.parquet
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from mloop.serving import score as run_score

    with Progress(
        TextColumn("[bold]scoring[/bold]"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("score", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        result = run_score(
            model,
            input,
            output,
            chunk_rows=chunk_rows,
            runner=runner,
            progress=progress,
            proba=not no_proba,
        )
    console.print(
        f"[bold green]scored[/bold green] {result.rows:,} rows with {result.model_name} version "
        f"{result.model_version} in {result.seconds:.1f} s ({result.chunks} chunks, "
        f"{result.runner}) → {result.output}"
    )
