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
    env_manager: str = typer.Option(
        "local",
        "--env-manager",
        help="local: serve with this Python's packages; venv: from a virtual environment "
        "with exactly the packages the model was logged with (built once, cached).",
    ),
    mloop_source: str | None = typer.Option(
        None, "--mloop-source", help="With --env-manager venv: the mloop wheel or project."
    ),
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
    if env_manager not in ("local", "venv"):
        raise InvalidInput(f"--env-manager {env_manager!r} is unknown; use 'local' or 'venv'.")
    if env_manager == "venv":
        given = locals()
        options = [f"--{flag}={given[name]}" for name, flag in _PASSED_ON.items()]
        raise typer.Exit(_serve_in_venv(targets, options, no_log, mloop_source))
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


_PASSED_ON = {
    "host": "host",
    "port": "port",
    "workers": "workers",
    "max_batch_rows": "max-batch-rows",
    "max_wait_ms": "max-wait-ms",
    "max_queue": "max-queue",
    "timeout": "timeout",
    "max_body_mb": "max-body-mb",
    "poll_seconds": "poll-seconds",
}


def _serve_in_venv(
    targets: list[str], options: list[str], no_log: bool, mloop_source: str | None
) -> int:
    """``mloop serve`` run by the Python of the models' own environment."""
    from mloop.core.errors import InvalidInput
    from mloop.registry.flavors.venv import model_env, run_in

    envs = {target: model_env(target, mloop_source) for target in targets}
    paths = {env.path for env in envs.values()}
    if len(paths) > 1:
        raise InvalidInput(
            "these models were logged with different packages, so no one environment serves "
            "them all: "
            + "; ".join(f"{t} -> {e.path.name}" for t, e in envs.items())
            + ". Serve each with its own mloop serve --env-manager venv."
        )
    env = next(iter(envs.values()))
    state = "built" if env.built else "reused"
    console.print(f"[bold]environment[/bold] {env.path} ({state} in {env.seconds:.1f} s)")
    return run_in(env, ["serve", *targets, *options, *(["--no-log"] if no_log else [])])


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
