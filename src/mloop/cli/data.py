"""``mloop data``: register, list, show, profile, suggest and check datasets."""

# mloop imports inside the commands are deferred for start-up time: `mloop --help` and
# each command load only what they use.

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mloop.cli.output import console, emit_json, format_ms, table

app = typer.Typer(help="Data: versioned datasets, quality checks, profiles.", no_args_is_help=True)

_SOURCE = "A Parquet/CSV path or a dataset reference such as weather@2 (or weather for the latest)."


def _read(source: str) -> Any:
    """A DataFrame from a file path or a dataset reference."""
    if Path(source).exists():
        from mloop.data._parquet import read_frame

        return read_frame(source)
    from mloop.data import load

    return load(source)


@app.command("register")
def register(
    name: str = typer.Argument(..., help="Dataset name, e.g. weather."),
    path: Path = typer.Argument(..., help="Parquet or CSV file (read in batches)."),
    description: str = typer.Option("", "--description", "-d", help="What the data is."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Store a file as a new version of a dataset (the same content keeps its version)."""
    from mloop.data import register as register_data

    version = register_data(name, path, description=description)
    if as_json:
        emit_json(version.to_dict())
        return
    console.print(
        f"[bold]{version.key}[/bold]  {version.num_rows:,} rows  {len(version.schema)} columns  "
        f"sha256 {version.sha256[:12]}  {version.uri}"
    )


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List datasets with their latest version."""
    from mloop.data import list_datasets

    rows = [
        {**v.to_dict(), "columns": len(v.schema), "created": format_ms(v.created_at)}
        for v in list_datasets()
    ]
    if as_json:
        emit_json(
            [
                {
                    k: r[k]
                    for k in (
                        "name",
                        "version",
                        "num_rows",
                        "sha256",
                        "description",
                        "created_at",
                        "uri",
                    )
                }
                for r in rows
            ]
        )
        return
    table(rows, ["name", "version", "num_rows", "columns", "created", "description"], "Datasets")


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="weather@2, weather@latest or weather."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with the full profile)."),
) -> None:
    """Show a dataset version: schema, row count, checksum and profile."""
    from mloop.data import get_version, versions

    version = get_version(ref)
    if as_json:
        emit_json(version.to_dict(with_profile=True))
        return
    console.print(f"[bold]{version.key}[/bold]  {version.description}")
    console.print(
        f"{version.num_rows:,} rows · {version.num_bytes:,} bytes · sha256 {version.sha256} · "
        f"created {format_ms(version.created_at)} by {version.created_by}"
    )
    console.print(f"file {version.uri}")
    console.print(f"versions: {', '.join(str(v.version) for v in versions(version.name))}")
    _print_profile(version.profile, f"Profile of {version.key}")


def _print_profile(profile: Any, title: str) -> None:
    rows = profile.summary()
    columns = ["column", "type", "nulls", "min", "median", "max", "distinct", "top"]
    table(rows, [c for c in columns if any(c in r for r in rows)], title)


@app.command("profile")
def profile(
    source: str = typer.Argument(..., help=_SOURCE),
    as_json: bool = typer.Option(False, "--json", help="Print the serialised profile."),
) -> None:
    """Profile a file (in batches) or a dataset version."""
    from mloop.data import get_version
    from mloop.data import profile as make_profile

    summary = make_profile(source) if Path(source).exists() else get_version(source).profile
    if as_json:
        emit_json(summary.to_dict())
        return
    _print_profile(summary, f"Profile of {source} ({summary.num_rows:,} rows)")


@app.command("suggest")
def suggest(
    source: str = typer.Argument(..., help=_SOURCE),
    name: str = typer.Option("suggested", "--name", "-n", help="Name of the suite."),
    output: Path = typer.Option(None, "--output", "-o", help="Write the suite's YAML here."),
    save: bool = typer.Option(False, "--save", help="Store the suite in the metadata store."),
) -> None:
    """Propose a suite of checks from reference data, to review and save."""
    from mloop.data import suggest_suite

    suite = suggest_suite(_read(source), name)
    text = suite.to_yaml(output)
    if save:
        suite.save()
    if output is None:
        typer.echo(text, nl=False)
    else:
        console.print(f"wrote {len(suite.checks)} checks to {output}")
    if save:
        console.print(f"saved suite {suite.name}@{suite.version}")


@app.command("check")
def check(
    source: str = typer.Argument(..., help=_SOURCE),
    suite: str = typer.Option(
        ..., "--suite", "-s", help="A suite YAML file or a stored suite (name or name@2)."
    ),
    html: Path = typer.Option(None, "--html", help="Write the HTML report here."),
    quarantine: str = typer.Option(
        None,
        "--quarantine",
        "-q",
        help="Quarantine failing rows into this dataset (e.g. weather.quarantine).",
    ),
    save: bool = typer.Option(True, "--save/--no-save", help="Store the result (and the suite)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Validate data with a suite; exit code 1 when an error-level check fails."""
    from mloop.data import Suite, get_version

    checks = Suite.from_yaml(Path(suite)) if Path(suite).is_file() else Suite.load(suite)
    data: Any = Path(source) if Path(source).exists() else get_version(source)
    result = checks.validate(data, quarantine=quarantine or False, save=save)
    if html is not None:
        result.to_html(html)
    if as_json:
        emit_json(result.to_dict())
    else:
        verdict = (
            "[bold green]PASSED[/bold green]" if result.success else "[bold red]FAILED[/bold red]"
        )
        on = result.dataset or source
        console.print(
            f"{verdict}  suite {checks.name}  on {on}  {result.num_rows:,} rows  {result.seconds:.3f} s"
        )
        table(
            result.summary(),
            ["check", "column", "severity", "success", "failed", "fraction", "detail"],
            "Checks",
        )
        if result.quarantine_version is not None and result.quarantined is not None:
            console.print(
                f"quarantined {len(result.quarantined):,} rows to {result.quarantine_version.key}"
            )
        if html is not None:
            console.print(f"report: {html}")
    if not result.success:
        raise typer.Exit(1)
