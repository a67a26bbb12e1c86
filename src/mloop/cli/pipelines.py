"""``mloop pipeline`` (list, show), ``mloop schedule`` (add, list, remove), run progress."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mloop.cli.output import console, emit_json, errors, format_ms, table

if TYPE_CHECKING:
    from rich.console import Console

    from mloop.pipelines import NodeStatus

app = typer.Typer(help="Pipelines of the project: list them, show their DAG.", no_args_is_help=True)
schedule_app = typer.Typer(
    help="Cron schedules that queue pipeline runs (run them with `mloop scheduler`).",
    no_args_is_help=True,
)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the pipelines the project registers (pipelines module of mloop.toml)."""
    from mloop.pipelines import list_pipelines
    from mloop.pipelines.project import DEFAULT

    pipelines = list_pipelines()
    default = pipelines.get(DEFAULT)
    rows = [
        {
            "name": name,
            "nodes": len(p.nodes),
            "inputs": ", ".join(sorted(i for i in p.inputs() if not i.startswith("params:"))),
            "outputs": ", ".join(sorted(p.outputs())),
            "default": "yes" if p is default else "",
        }
        for name, p in sorted(pipelines.items())
        if name != DEFAULT
    ]
    table(rows, ["name", "nodes", "inputs", "outputs", "default"], "Pipelines", as_json)


@app.command("show")
def show(
    name: str = typer.Argument(None, help="Pipeline name (the default pipeline when omitted)."),
    mermaid: Path = typer.Option(None, "--mermaid", help="Write a Mermaid flowchart here."),
    html: Path = typer.Option(None, "--html", help="Write an HTML page (inline SVG) here."),
    as_json: bool = typer.Option(False, "--json", help="Print the nodes as JSON."),
) -> None:
    """Print a pipeline's DAG as a tree; export it as Mermaid or HTML."""
    from mloop.pipelines import find_pipeline
    from mloop.pipelines.render import to_html, to_mermaid, to_tree

    label, pipe = find_pipeline(name)
    if as_json:
        emit_json(
            {
                "name": label,
                "nodes": [
                    {
                        "name": n.name,
                        "function": n.func_name,
                        "inputs": list(n.inputs),
                        "outputs": list(n.outputs),
                        "tags": sorted(n.tags),
                    }
                    for n in pipe.nodes
                ],
            }
        )
    else:
        typer.echo(to_tree(pipe, label))
    if mermaid is not None:
        mermaid.write_text(to_mermaid(pipe))
        console.print(f"wrote {mermaid}")
    if html is not None:
        html.write_text(to_html(pipe, label))
        console.print(f"wrote {html}")


@schedule_app.command("add")
def schedule_add(
    pipeline: str = typer.Argument(..., help="Pipeline to run."),
    cron: str = typer.Option(..., "--cron", help="Cron expression in UTC, e.g. '0 3 * * *'."),
    name: str = typer.Option(None, "--name", help="Schedule name (the pipeline's by default)."),
    params: list[str] = typer.Option(
        [], "--params", "-p", help="Parameter override key=value (repeatable)."
    ),
    env: str = typer.Option(None, "--env", help="Configuration environment (conf/<env>)."),
    runner: str = typer.Option(None, "--runner", help="sequential, parallel or ray."),
) -> None:
    """Queue a run of PIPELINE whenever the cron expression matches."""
    from mloop.pipelines.params import parse_overrides
    from mloop.pipelines.schedule import add_schedule

    added = add_schedule(
        pipeline, cron, name=name, params=parse_overrides(params), env=env, runner=runner
    )
    console.print(
        f"schedule [bold]{added.name}[/bold]: {added.pipeline} at '{added.cron}' (UTC), "
        f"next {format_ms(added.next_fire_at)}"
    )


@schedule_app.command("list")
def schedule_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the schedules with their next and last firing."""
    from mloop.pipelines.schedule import list_schedules

    rows = [
        {
            **s.to_dict(),
            "next": format_ms(s.next_fire_at),
            "last": format_ms(s.last_fired_at),
        }
        for s in list_schedules()
    ]
    if as_json:
        emit_json([{k: v for k, v in r.items() if k not in ("next", "last")} for r in rows])
        return
    table(rows, ["name", "pipeline", "cron", "next", "last", "env", "runner"], "Schedules")


@schedule_app.command("remove")
def schedule_remove(name: str = typer.Argument(..., help="Schedule name.")) -> None:
    """Delete a schedule (its past runs stay)."""
    from mloop.pipelines.schedule import remove_schedule

    remove_schedule(name)
    console.print(f"removed schedule {name}")


_STYLES = {
    "started": "cyan",
    "ran": "green",
    "cached": "blue",
    "failed": "red",
    "skipped": "yellow",
}


def node_progress(out: Console | None = None) -> Callable[[NodeStatus], None]:
    """A ``progress`` callback for :func:`mloop.pipelines.run`: one line per node event.

    Lines go to stderr (stdout keeps the result table or ``--json``), each with the time
    of day, the node, what happened and how long it took::

        12:00:01  train                     started
        12:00:04  train                     ran      2.95 s
    """
    stream = out or errors
    width = 24

    def show(status: NodeStatus) -> None:
        width_now = max(width, len(status.name))
        line = f"{time.strftime('%H:%M:%S')}  {status.name:<{width_now}}  "
        style = _STYLES.get(status.status, "")
        line += f"[{style}]{status.status:<8}[/{style}]" if style else f"{status.status:<8}"
        if status.status in ("ran", "failed"):
            line += f" {status.seconds:.2f} s"
        if status.status == "skipped":
            line += " (an upstream node failed)"
        if status.error:
            line += f"  {status.error.splitlines()[0]}"
        stream.print(line, highlight=False, soft_wrap=True)

    return show
