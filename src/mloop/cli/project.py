"""Top-level project commands: ``mloop init``, ``mloop run``, ``mloop scheduler``."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mloop.cli.output import console, emit_json, errors, table


def register(app: typer.Typer) -> None:
    from mloop.cli.pipelines import schedule_app

    app.command("init")(init)
    app.command("run")(run)
    app.command("scheduler")(scheduler)
    app.add_typer(schedule_app, name="schedule")


def _names(values: list[str]) -> list[str]:
    """``--from-nodes a,b --from-nodes c`` -> ``[a, b, c]``."""
    return [n.strip() for value in values for n in value.split(",") if n.strip()]


def init(
    folder: Path = typer.Argument(..., help="Folder of the new project (created when missing)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the skeleton's files."),
) -> None:
    """Create a project skeleton (mloop.toml, pipelines, features, checks, conf/) that runs as is."""
    from mloop.pipelines.skeleton import init_project

    written = init_project(folder, force=force)
    for path in written:
        console.print(f"  created {path}")
    console.print(f"\nNext: cd {folder} && mloop run   (then mloop pipeline show)")


def run(
    pipeline: str = typer.Argument(None, help="Pipeline name (the project's default if omitted)."),
    runner: str = typer.Option(None, "--runner", "-r", help="sequential, parallel or ray."),
    env: str = typer.Option(None, "--env", "-e", help="Configuration environment (conf/<env>)."),
    params: list[str] = typer.Option(
        [], "--params", "-p", help="Parameter override key=value (repeatable)."
    ),
    from_nodes: list[str] = typer.Option([], "--from-nodes", help="Run from these nodes on."),
    to_nodes: list[str] = typer.Option([], "--to-nodes", help="Run up to these nodes."),
    only: list[str] = typer.Option([], "--only", help="Run only these nodes."),
    tags: list[str] = typer.Option([], "--tags", help="Run only nodes with these tags."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every node, even unchanged."),
    no_track: bool = typer.Option(False, "--no-track", help="Record no tracking runs."),
    workers: int = typer.Option(None, "--workers", help="Worker processes (parallel/ray)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="No line per node while it runs (--json implies it)."
    ),
) -> None:
    """Run a pipeline; unchanged nodes are skipped (their outputs come from the cache).

    Each node's start and end (ran, cached, failed, with its time) is printed to stderr
    as it happens; the result table goes to stdout at the end. --json prints only the result.
    """
    from mloop.cli.pipelines import node_progress
    from mloop.pipelines import NodeFailed
    from mloop.pipelines import run as run_pipeline
    from mloop.pipelines.params import parse_overrides

    try:
        result = run_pipeline(
            pipeline,
            runner=runner,
            env=env,
            params=parse_overrides(params),
            from_nodes=_names(from_nodes) or None,
            to_nodes=_names(to_nodes) or None,
            only=_names(only) or None,
            tags=_names(tags) or None,
            cache=not no_cache,
            track=not no_track,
            max_workers=workers,
            progress=None if quiet or as_json else node_progress(),
        )
    except NodeFailed as failed:
        _print_result(failed.result, as_json)
        if failed.traceback:
            errors.print(failed.traceback.rstrip(), highlight=False, markup=False, soft_wrap=True)
        raise
    _print_result(result, as_json)


def _print_result(result: Any, as_json: bool) -> None:
    rows = [
        {
            "node": s.name,
            "status": s.status,
            "seconds": round(s.seconds, 3),
            "run_id": s.run_id,
            "error": s.error,
        }
        for s in result.nodes.values()
    ]
    if as_json:
        emit_json(
            {
                "pipeline": result.pipeline,
                "status": result.status,
                "run_id": result.run_id,
                "seconds": result.seconds,
                "resume_command": result.resume_command,
                "nodes": rows,
            }
        )
        return
    table(rows, ["node", "status", "seconds", "run_id", "error"], f"Pipeline {result.pipeline}")
    colour = "green" if result.status == "FINISHED" else "red"
    console.print(
        f"[bold {colour}]{result.status}[/bold {colour}] in {result.seconds:.2f} s: "
        f"{result.count('ran')} ran, {result.count('cached')} cached, "
        f"{result.count('failed')} failed, {result.count('skipped')} not run"
        + (f"  (run {result.run_id})" if result.run_id else "")
    )


def scheduler(
    interval: float = typer.Option(5.0, "--interval", help="Seconds between checks."),
    once: bool = typer.Option(False, "--once", help="Check once, run what is due, and exit."),
) -> None:
    """Fire due schedules and run queued triggers until stopped (Ctrl-C or SIGTERM)."""
    from mloop.cli.output import format_ms
    from mloop.pipelines.scheduler import Scheduler

    def show(event: str, trigger: Any) -> None:
        detail = f" run {trigger.run_id}" if trigger.run_id else ""
        if trigger.error:
            detail += f" error: {trigger.error.splitlines()[0]}"
        console.print(
            f"{format_ms(trigger.finished_at or trigger.started_at or trigger.created_at)} "
            f"{event:9} {trigger.pipeline} ({trigger.source}){detail}",
            highlight=False,
        )

    worker = Scheduler(poll_interval=interval, on_event=show)
    if not once:
        console.print(f"scheduler: checking every {interval:g} s; Ctrl-C stops it")
    worker.run_forever(max_ticks=1 if once else None)
